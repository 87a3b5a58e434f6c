package io.sealstream.audit;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place a decision is audited: an {@code audit.<type> key=value ...} log line and the
 * same event to the {@link AuditSink} (the audit topic). Values are ids and codes: callers pass
 * no key, secret or request data. A value is kept to a short token of a safe alphabet (anything
 * else becomes '_'), so a log line always parses as {@code name=value} pairs.
 */
public final class AuditTrail implements AutoCloseable {
    private static final Logger AUDIT = LoggerFactory.getLogger("io.sealstream.audit");
    /** Ids, codes, hex digests, times and lists of them; nothing with spaces or quotes. */
    private static final java.util.regex.Pattern UNSAFE = java.util.regex.Pattern.compile("[^A-Za-z0-9_.:+\\-/\\[\\],@]");
    private static final int MAX_VALUE = 512;

    private final Clock clock;
    private final AuditSink sink;

    public AuditTrail(Clock clock, AuditSink sink) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /** Audits one event: {@code type} like {@code attest.accepted}, then names and values in turn. */
    public void record(String type, Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("audit " + type + ": names and values come in pairs");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        StringBuilder line = new StringBuilder("audit.").append(type);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            String name = String.valueOf(namesAndValues[i]);
            String value = token(String.valueOf(namesAndValues[i + 1]));
            attributes.put(name, value);
            line.append(' ').append(name).append('=').append(value);
        }
        AUDIT.info(line.toString());
        sink.accept(clock.instant(), type, attributes);
    }

    /** {@code value} as a log- and topic-safe token. */
    static String token(String value) {
        String cut = value.length() > MAX_VALUE ? value.substring(0, MAX_VALUE) : value;
        return UNSAFE.matcher(cut).replaceAll("_");
    }

    @Override
    public void close() {
        sink.close();
    }
}
