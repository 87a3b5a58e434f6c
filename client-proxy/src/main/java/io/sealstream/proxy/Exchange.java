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
    /** The events under way, once {@link #events()} began them. */
    private volatile EventStream stream;

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

    /** Whether nothing more will be sent: answered, and any events ended. */
    boolean isDone() {
        EventStream s = stream;
        return isAnswered() && (s == null || s.ended());
    }

    /**
     * Answers with {@code e}; once events have begun, ends them with {@code e} as an error event
     * (the OpenAI libraries raise it), as the status line is gone.
     */
    void fail(ProxyError e) {
        EventStream s = stream;
        if (s != null) {
            s.event(e.body().toString());
            s.end("");
            return;
        }
        if (e.retryPointless()) {
            response.getHeaders().put("x-should-retry", "false");
        }
        write(e.status(), "application/json", e.body().toString(), e.code());
    }

    void json(int status, ObjectNode body) {
        write(status, "application/json", body.toString(), null);
    }

    /**
     * Starts a stream of server-sent events: the status (200) and headers go out with the first
     * event. The exchange counts as answered from now on; {@code onAnswered} runs when the stream
     * ends. Null if the exchange was already answered.
     */
    EventStream events() {
        Runnable then = claim();
        if (then == null) {
            return null;
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        head(200, "text/event-stream; charset=utf-8", null);
        EventStream s = new EventStream(response, callback, once(then));
        stream = s;
        return s;
    }

    private static Runnable once(Runnable r) {
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        return () -> {
            if (ran.compareAndSet(false, true)) {
                r.run();
            }
        };
    }

    /** Sends a file's bytes as they are. */
    /**
     * Sends a file's bytes as they are; opened before anything is sent, so a file deleted a moment
     * ago is an {@link java.io.IOException} here, for the caller to answer, not a broken response.
     */
    void file(Path file, String contentType, ByteBufferPool.Sized pool) throws java.io.IOException {
        java.nio.channels.SeekableByteChannel channel = java.nio.file.Files.newByteChannel(file);
        if (!begin(200, contentType, null)) {
            channel.close();
            return;
        }
        Content.copy(Content.Source.from(pool, channel), response, callback);
    }

    private void write(int status, String contentType, String text, String code) {
        if (begin(status, contentType, code)) {
            Content.Sink.write(response, true, text, callback);
        }
    }

    private boolean begin(int status, String contentType, String code) {
        Runnable then = claim();
        if (then == null) {
            return false;
        }
        then.run();
        head(status, contentType, code);
        return true;
    }

    /** Marks the exchange answered; what runs once it is (never null), or null if it already was. */
    private Runnable claim() {
        synchronized (this) {
            if (answered) {
                return null;
            }
            answered = true;
            return onAnswered == null ? () -> { } : onAnswered;
        }
    }

    /** The status line and headers, and the access-log line. */
    private void head(int status, String contentType, String code) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        if (requestId != null) {
            response.getHeaders().put("x-request-id", requestId);
        }
        log.record(request.getMethod(), route, status, code, requestId, model,
                (System.nanoTime() - startNanos) / 1_000_000);
    }

    private static Runnable chain(Runnable a, Runnable b) {
        return () -> {
            a.run();
            b.run();
        };
    }
}
