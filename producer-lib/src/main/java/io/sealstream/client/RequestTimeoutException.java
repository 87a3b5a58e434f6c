package io.sealstream.client;

import java.time.Duration;

/** No answer arrived within the request timeout; a late answer is dropped. */
public final class RequestTimeoutException extends SealstreamException {
    private final String requestId;

    RequestTimeoutException(String requestId, Duration timeout) {
        super("request " + requestId + " got no answer within " + timeout.toMillis()
                + " ms; check that workers run and keep up, then retry with the same request id", null);
        this.requestId = requestId;
    }

    public String requestId() {
        return requestId;
    }
}
