package io.sealstream.streams;

/**
 * Where a handler puts the text of one request's answer as it generates it, for a request that
 * asked to stream (docs/streaming.md). The answer the handler returns stays the answer; what
 * reaches a sink is a preview of it. A sink never throws and never blocks for long.
 */
public interface TokenSink {
    /** A sink for a request that does not stream: takes nothing. */
    TokenSink NONE = new TokenSink() {
        @Override
        public void text(String delta) {
        }
    };

    /** The text generated since the previous call. */
    void text(String delta);

    /** Generation starts over (the batch is run again request by request): what follows is a new attempt. */
    default void restart() {
    }

    /** Generation ended: the sink sends what it holds, marked as the attempt's last chunk. */
    default void end() {
    }

    /** Whether this sink takes text at all (so a handler need not build text for {@link #NONE}). */
    default boolean wants() {
        return this != NONE;
    }
}
