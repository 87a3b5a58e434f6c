package io.sealstream.proxy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Server-sent events written one after another as they come: Jetty takes one write at a time,
 * so events queue here while the previous write is under way. Events may come from any thread;
 * none waits for the network. A write that fails (the caller went away) drops what is queued and
 * ends the exchange.
 */
final class EventStream {
    private final Response response;
    private final Callback done;
    private final Runnable onEnded;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    private boolean writing;
    private boolean closed;
    private boolean failed;

    private record Item(ByteBuffer bytes, boolean last) {
    }

    EventStream(Response response, Callback done, Runnable onEnded) {
        this.response = response;
        this.done = done;
        this.onEnded = onEnded;
    }

    /** Sends {@code data: <json>}. */
    void event(String json) {
        enqueue("data: " + json + "\n\n", false);
    }

    /** Sends {@code last} and ends the response. */
    void end(String last) {
        enqueue(last, true);
    }

    /** Whether the last event was sent or the stream broke: nothing more goes out. */
    synchronized boolean ended() {
        return closed;
    }

    private synchronized void enqueue(String text, boolean last) {
        if (closed) {
            return;
        }
        closed = last;
        queue.add(new Item(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), last));
        pump();
    }

    private synchronized void pump() {
        if (writing || failed || queue.isEmpty()) {
            return;
        }
        Item item = queue.poll();
        writing = true;
        response.write(item.last(), item.bytes(), Callback.from(() -> written(item.last()), this::broken));
    }

    private void written(boolean last) {
        synchronized (this) {
            writing = false;
            if (!last) {
                pump();
                return;
            }
        }
        onEnded.run();
        done.succeeded();
    }

    private void broken(Throwable why) {
        synchronized (this) {
            failed = true;
            closed = true;
            queue.clear();
        }
        onEnded.run();
        done.failed(why);
    }
}
