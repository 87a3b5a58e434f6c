package io.sealstream.transparency;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One entry of the transparency log: what happened ({@link Type}), when, and its fields. Its bytes
 * (what the tree hashes) are a JSON object in a canonical form any implementation can rebuild:
 * ASCII, no whitespace, members in byte order, every value a string from an alphabet that needs no
 * escaping ({@code [A-Za-z0-9+/=:._-]}; documents go in as standard base64). Entries never hold
 * private material: policies, measurements, public keysets, key ids and times.
 *
 * @param type what the entry records
 * @param at when the key broker appended it
 * @param fields the entry's fields by name (lower-case names, {@code _} allowed)
 */
public record LogEntry(Type type, Instant at, Map<String, String> fields) {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,31}");
    private static final Pattern VALUE = Pattern.compile("[A-Za-z0-9+/=:._-]{0,65536}");
    private static final Pattern MEMBER = Pattern.compile("\"([a-z][a-z0-9_]{0,31})\":\"([A-Za-z0-9+/=:._-]*)\"");
    /** Larger than any entry the log holds (a policy document, base64, is a few KiB). */
    public static final int MAX_BYTES = 96 * 1024;

    /** The kinds of entry. */
    public enum Type {
        /** A policy the key broker enforces from now: {@code policy_id}, {@code policy} (canonical JSON, base64). */
        POLICY("policy"),
        /** A key-broker build clients may trust: {@code tee}, {@code measurement}. */
        BROKER_MEASUREMENT("broker_measurement"),
        /** A topic's public keyset: {@code topic}, {@code key_id}, {@code keyset} (base64), {@code created_at}. */
        TOPIC_KEY("topic_key"),
        /** A topic key no longer primary: {@code topic}, {@code key_id}, {@code demoted_at}. */
        TOPIC_KEY_DEMOTED("topic_key_demoted"),
        /**
         * A worker admitted to keys: {@code lease_id}, {@code tee}, {@code measurement},
         * {@code policy_id}, {@code models} (the SHA-256 of each model it loaded, hex, joined by
         * {@code .}), {@code expires_at}. Responses name their lease, so a client can tell which
         * attested build answered.
         */
        LEASE("lease");

        private final String id;

        Type(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        static Type fromId(String id) {
            for (Type t : values()) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown log entry type '" + id + "'");
        }
    }

    public LogEntry {
        fields = Map.copyOf(fields);
        for (Map.Entry<String, String> f : fields.entrySet()) {
            if (!NAME.matcher(f.getKey()).matches() || f.getKey().equals("type") || f.getKey().equals("at")) {
                throw new IllegalArgumentException("a log entry field name is lower-case letters, digits and '_', not 'type' "
                        + "or 'at': '" + f.getKey() + "'");
            }
            if (!VALUE.matcher(f.getValue()).matches()) {
                throw new IllegalArgumentException("log entry field '" + f.getKey() + "' holds characters outside "
                        + "[A-Za-z0-9+/=:._-]; encode documents as base64");
            }
        }
        at = Instant.ofEpochMilli(at.toEpochMilli()); // the canonical form keeps milliseconds
    }

    /** The canonical bytes the tree hashes. */
    public byte[] bytes() {
        Map<String, String> all = new TreeMap<>(fields);
        all.put("at", at.toString());
        all.put("type", type.id());
        StringBuilder b = new StringBuilder("{");
        all.forEach((k, v) -> b.append(b.length() > 1 ? "," : "").append('"').append(k).append("\":\"").append(v).append('"'));
        byte[] out = b.append('}').toString().getBytes(StandardCharsets.US_ASCII);
        if (out.length > MAX_BYTES) {
            throw new IllegalArgumentException("a log entry of " + out.length + " bytes is larger than " + MAX_BYTES);
        }
        return out;
    }

    /**
     * Reads canonical bytes back; anything that is not exactly the canonical form of an entry is
     * refused, so one entry has one encoding.
     */
    public static LogEntry parse(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new IllegalArgumentException("a log entry of " + bytes.length + " bytes is larger than " + MAX_BYTES);
        }
        String s = new String(bytes, StandardCharsets.US_ASCII);
        if (!s.startsWith("{") || !s.endsWith("}")) {
            throw new IllegalArgumentException("a log entry is a JSON object");
        }
        Map<String, String> members = new TreeMap<>();
        Matcher m = MEMBER.matcher(s);
        int at = 1;
        while (at < s.length() - 1 && m.find(at) && m.start() == at) {
            if (members.put(m.group(1), m.group(2)) != null) {
                throw new IllegalArgumentException("log entry member '" + m.group(1) + "' appears twice");
            }
            at = m.end();
            if (s.charAt(at) == ',') {
                at++;
            }
        }
        if (!members.containsKey("type") || !members.containsKey("at")) {
            throw new IllegalArgumentException("a log entry has a type and a time");
        }
        Type type = Type.fromId(members.remove("type"));
        Instant when = Instant.parse(members.remove("at"));
        LogEntry entry = new LogEntry(type, when, members);
        if (!java.util.Arrays.equals(entry.bytes(), bytes)) {
            throw new IllegalArgumentException("the log entry is not in its canonical form");
        }
        return entry;
    }
}
