package io.sealstream.client;

import io.sealstream.envelope.OpenedChunk;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's side of one streamed answer (docs/streaming.md): it follows the first attempt it
 * sees, hands on each chunk's text once and in order (a duplicate is dropped, one that comes early
 * waits for those before it), ignores other attempts, and when the answer arrives hands on what
 * the chunks had not yet brought. The answer decides: what was handed on is always a prefix of it,
 * unless a worker died mid-generation and the redone attempt wrote other text, which
 * {@link #finish} reports.
 */
final class ChunkStream {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkStream.class);
    /** Chunks held back while an earlier one is missing; beyond, the answer brings the rest. */
    static final int MAX_EARLY = 256;

    private final String requestId;
    private final Consumer<String> onText;
    private final TreeMap<Integer, String> early = new TreeMap<>();
    private final StringBuilder handedOn = new StringBuilder();
    private String attempt;
    private int next;
    private boolean ended;

    ChunkStream(String requestId, Consumer<String> onText) {
        this.requestId = requestId;
        this.onText = onText;
    }

    /** A chunk that opened under the request's session. */
    synchronized void chunk(OpenedChunk c) {
        if (ended) {
            return;
        }
        if (attempt == null) {
            attempt = c.attempt();
        } else if (!attempt.equals(c.attempt())) {
            return; // another generation of the same answer: the first one seen is followed
        }
        if (c.seq() < next) {
            return;
        }
        if (c.seq() > next) {
            if (early.size() < MAX_EARLY) {
                early.put(c.seq(), c.text());
            }
            return;
        }
        handOn(c.text());
        next++;
        for (String t; (t = early.remove(next)) != null; next++) {
            handOn(t);
        }
    }

    /**
     * The answer arrived: hands on the rest of {@code content}.
     *
     * @return false when what was handed on is not a prefix of {@code content} (the stream diverged)
     */
    synchronized boolean finish(String content) {
        if (ended) {
            return true;
        }
        ended = true;
        if (!content.startsWith(handedOn.toString())) {
            LOG.warn("client.stream.diverged request_id={} streamed_chars={} answer_chars={}", requestId,
                    handedOn.length(), content.length());
            return false;
        }
        handOn(content.substring(handedOn.length()));
        return true;
    }

    /** The request failed: nothing more is handed on. */
    synchronized void abandon() {
        ended = true;
    }

    private void handOn(String text) {
        if (text.isEmpty()) {
            return;
        }
        handedOn.append(text);
        try {
            onText.accept(text);
        } catch (RuntimeException e) {
            // the caller's callback must not take the stream, or the answer, down with it
            LOG.warn("client.stream.callback_failed request_id={} error={}", requestId, e.getClass().getSimpleName());
        }
    }
}
