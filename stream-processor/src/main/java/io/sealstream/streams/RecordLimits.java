package io.sealstream.streams;

/**
 * The size rules of the worker's output, in one place. The numbers that depend on the cluster
 * (a topic's {@code max.message.bytes}, the producer's {@code max.request.size}) are read from it
 * at run time by {@link AdminTopicDirectory}; these are the fixed parts around them.
 */
public final class RecordLimits {
    /**
     * Bytes kept free below a topic's limit for what surrounds a value: the record key (a request
     * id of at most 128 characters), DLQ headers ({@link #MAX_HEADER_TEXT} and a source), and the
     * record batch framing (61 bytes and a varint per field).
     */
    public static final int RECORD_OVERHEAD_BYTES = 4096;
    /** Longest text header a dead letter carries; longer messages are cut. */
    public static final int MAX_HEADER_TEXT = 1024;
    /** Longest record key copied onto a dead letter; a longer key is replaced by its digest. */
    public static final int MAX_DEAD_LETTER_KEY = 256;
    /**
     * The producer's {@code max.request.size} the worker sets, and the {@code max.message.bytes} of
     * its changelog topics: 16 MiB, under the producer's 32 MiB {@code buffer.memory}. Request
     * topics must not allow more than this less {@link #RECORD_OVERHEAD_BYTES}, or a buffered
     * request could not be written to the changelog; the worker refuses to start then.
     */
    public static final int PRODUCER_MAX_REQUEST_BYTES = 16 << 20;

    private RecordLimits() {
    }

}
