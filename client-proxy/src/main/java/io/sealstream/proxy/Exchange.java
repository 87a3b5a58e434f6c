package io.sealstream.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * One HTTP exchange of the proxy: answered exactly once (a second answer is ignored), and logged
 * once, when it is answered. {@code onAnswered} runs then too, so what was counted when the
 * exchange was admitted is given back whatever path it ends on.
 */
final class Exchange {
    final Request request;
    private final Response response;
    private final Callback callback;
    private final AccessLog log;
    private final long startNanos = System.nanoTime();
    final String route;
    volatile String requestId;
    volatile String model;
    private Runnable onAnswered;
    private boolean answered;

    Exchange(Request request, Response response, Callback callback, AccessLog log, String route) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.log = log;
        this.route = route;
    }

    /** Runs once when the exchange is answered (or at once if it already is). */
    void onAnswered(Runnable r) {
        boolean now;
        synchronized (this) {
            now = answered;
            if (!now) {
                onAnswered = onAnswered == null ? r : chain(onAnswered, r);
            }
        }
        if (now) {
            r.run();
        }
    }

    synchronized boolean isAnswered() {
        return answered;
    }

    void fail(ProxyError e) {
        if (e.retryPointless()) {
            response.getHeaders().put("x-should-retry", "false");
        }
        write(e.status(), "application/json", e.body().toString(), e.code());
    }

    void json(int status, ObjectNode body) {
        write(status, "application/json", body.toString(), null);
    }

    void events(String sse) {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        write(200, "text/event-stream; charset=utf-8", sse, null);
    }

    /** Sends a file's bytes as they are. */
    void file(Path file, String contentType, ByteBufferPool.Sized pool) {
        if (!begin(200, contentType, null)) {
            return;
        }
        Content.copy(Content.Source.from(pool, file), response, callback);
    }

    private void write(int status, String contentType, String text, String code) {
        if (begin(status, contentType, code)) {
            Content.Sink.write(response, true, text, callback);
        }
    }

    private boolean begin(int status, String contentType, String code) {
        Runnable then;
        synchronized (this) {
            if (answered) {
                return false;
            }
            answered = true;
            then = onAnswered;
        }
        if (then != null) {
            then.run();
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        if (requestId != null) {
            response.getHeaders().put("x-request-id", requestId);
        }
        log.record(request.getMethod(), route, status, code, requestId, model,
                (System.nanoTime() - startNanos) / 1_000_000);
        return true;
    }

    private static Runnable chain(Runnable a, Runnable b) {
        return () -> {
            a.run();
            b.run();
        };
    }
}
