package io.sealstream.streams;

/**
 * The shape of a dead-letter record: its value is the original record's value byte for byte
 * (ciphertext, or whatever bytes arrived), its key the original key, and these headers say why
 * and where from. Nothing in a dead letter is ever decrypted.
 */
public final class DeadLetters {
    /** Reason code, e.g. {@code tampered}, {@code unknown_key}, {@code malformed}. */
    public static final String REASON_HEADER = "sealstream.reason";
    /** What was wrong and what to do, in words; never quotes a payload. */
    public static final String MESSAGE_HEADER = "sealstream.message";
    /** {@code topic/partition@offset} of the original record. */
    public static final String SOURCE_HEADER = "sealstream.source";

    private DeadLetters() {
    }
}
