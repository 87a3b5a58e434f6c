package io.sealstream.streams;

import java.util.OptionalInt;

/**
 * What the worker must know about a topic before it produces to it: whether it exists, and the
 * largest record value it accepts. Asked before every answer or dead letter is sent, so a record
 * for an unprovisioned client is dead-lettered instead of blocking a send, and an answer too large
 * for its topic becomes an error instead of a failed transaction.
 */
public interface TopicDirectory {
    /**
     * The largest value, in bytes, that this worker may produce to {@code topic}: the smaller of
     * the topic's {@code max.message.bytes} and the producer's {@code max.request.size}, less
     * {@link RecordLimits#RECORD_OVERHEAD_BYTES} for key, headers and batch framing. Empty if
     * the topic does not exist.
     *
     * @throws TopicDirectoryUnavailableException if the cluster cannot be asked now; the caller
     *     keeps the record and asks again later
     */
    OptionalInt maxValueBytes(String topic);

    /** Drops what is remembered of {@code topic}, so the next question asks the cluster. */
    default void forget(String topic) {
    }

    /** The cluster cannot be asked now; nothing is known about the record's fault. */
    final class TopicDirectoryUnavailableException extends RuntimeException {
        public TopicDirectoryUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
