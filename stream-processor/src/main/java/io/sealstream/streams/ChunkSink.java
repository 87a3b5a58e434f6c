package io.sealstream.streams;

import io.sealstream.envelope.ChunkSealer;
import java.time.Clock;

/**
 * The {@link TokenSink} of one streaming request: it gathers the generated text and seals it into
 * a chunk every {@value #FLUSH_MILLIS} ms or {@value #FLUSH_PIECES} pieces, whichever comes first,
 * so the record rate stays bounded whatever the engine's token rate; the last chunk of an attempt
 * is marked final. A failure to seal or send loses a preview, never the answer.
 */
final class ChunkSink implements TokenSink {
    static final long FLUSH_MILLIS = 50;
    static final int FLUSH_PIECES = 32;

    private final ChunkSealer sealer;
    private final ChunkPublisher publisher;
    private final Clock clock;
    private final StringBuilder pending = new StringBuilder();
    private int pieces;
    private long lastFlush;
    private boolean broken;

    ChunkSink(ChunkSealer sealer, ChunkPublisher publisher, Clock clock) {
        this.sealer = sealer;
        this.publisher = publisher;
        this.clock = clock;
        this.lastFlush = clock.millis();
    }

    @Override
    public synchronized void text(String delta) {
        if (broken || delta == null || delta.isEmpty()) {
            return;
        }
        pending.append(delta);
        pieces++;
        long now = clock.millis();
        if (pieces >= FLUSH_PIECES || now - lastFlush >= FLUSH_MILLIS) {
            flush(false, now);
        }
    }

    @Override
    public synchronized void restart() {
        pending.setLength(0);
        pieces = 0;
        if (!broken) {
            sealer.restart();
        }
    }

    @Override
    public synchronized void end() {
        if (!broken) {
            flush(true, clock.millis());
            broken = true;
        }
    }

    private void flush(boolean last, long now) {
        try {
            publisher.send(sealer.streamTopic(), sealer.seal(pending.toString(), last, java.time.Instant.ofEpochMilli(now)));
        } catch (RuntimeException e) {
            // past the chunk limit, say: the rest of this answer arrives whole, with the answer
            broken = true;
            sealer.close();
        }
        pending.setLength(0);
        pieces = 0;
        lastFlush = now;
    }
}
