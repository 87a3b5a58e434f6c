package io.sealstream.proxy;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One structured line per HTTP exchange: method, route, status, code, request id, model name
 * (printable, clipped) and milliseconds. Never a body, header or query: the route is one of the
 * served paths or {@code (other)}, so nothing a caller typed reaches the log but the model name.
 */
final class AccessLog {
    private static final Logger LOG = LoggerFactory.getLogger("io.sealstream.proxy.access");

    void record(String method, String route, int status, String code, String requestId, String model, long millis) {
        LOG.info("proxy.request method={} route={} status={} code={} request_id={} model={} ms={}",
                method.matches("[A-Z]{1,10}") ? method : "(other)", route, status, code == null ? "-" : safe(code),
                requestId == null ? "-" : requestId, model == null ? "-" : safe(model), millis);
    }

    /** A model name or code as it is when it has the shape of one (a worker could send anything), else a placeholder. */
    private static String safe(String value) {
        return value.matches("[A-Za-z0-9._:-]{1,128}") ? value : "(unprintable)";
    }
}
