package io.sealstream.audit;

import java.time.Instant;
import java.util.Map;

/** Where audit events go beside the log: the audit topic ({@link KafkaAuditSink}), or nowhere. */
public interface AuditSink extends AutoCloseable {
    /** Logs only: a broker without an audit topic (tests of the broker's decisions alone). */
    AuditSink NONE = (time, type, attributes) -> { };

    /** Takes one event; never blocks on I/O and never throws (a decision never waits on the audit). */
    void accept(Instant time, String type, Map<String, String> attributes);

    /** Events the topic acknowledged so far (0 for a sink that writes nowhere). */
    default long written() {
        return 0;
    }

    /** Events waiting to be written: above zero for long, the topic is unwritable. */
    default long queued() {
        return 0;
    }

    /** Events dropped so far because they could not be queued. */
    default long dropped() {
        return 0;
    }

    @Override
    default void close() {
    }
}
