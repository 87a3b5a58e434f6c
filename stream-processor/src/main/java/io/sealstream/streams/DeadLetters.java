package io.sealstream.streams;

/**
 * The shape of a dead-letter record: its value is the original record's value byte for byte
 * (ciphertext, or whatever bytes arrived), its key the original key, and these headers say why
 * and where from. Nothing in a dead letter is ever decrypted. Every part is bounded so that a dead
 * letter always fits its topic: a value above the DLQ topic's limit is replaced by its size and
 * digest, a key above {@link RecordLimits#MAX_DEAD_LETTER_KEY} characters by {@code sha256:<hex>},
 * and the message is cut at {@link RecordLimits#MAX_HEADER_TEXT} characters.
 */
public final class DeadLetters {
    /** Reason code, e.g. {@code tampered}, {@code unknown_key}, {@code malformed}. */
    public static final String REASON_HEADER = "sealstream.reason";
    /** What was wrong and what to do, in words; never quotes a payload. */
    public static final String MESSAGE_HEADER = "sealstream.message";
    /** {@code topic/partition@offset} of the original record. */
    public static final String SOURCE_HEADER = "sealstream.source";
    /**
     * Present when the original value was larger than the DLQ topic takes: the value is then empty
     * and this header gives the original size in bytes (decimal).
     */
    public static final String ORIGINAL_SIZE_HEADER = "sealstream.original-size";
    /** With {@link #ORIGINAL_SIZE_HEADER}: SHA-256 of the original value, in hex. */
    public static final String ORIGINAL_SHA256_HEADER = "sealstream.original-sha256";

    private DeadLetters() {
    }
}
