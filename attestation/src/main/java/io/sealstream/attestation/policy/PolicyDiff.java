package io.sealstream.attestation.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What changes between two policies, rule by rule, read from their canonical forms (so
 * formatting never shows as a change): a value removed from a list (what a change revokes), a
 * value added (what it admits), a setting changed. What a client or an auditor reads before
 * accepting a new policy id.
 */
public final class PolicyDiff {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One change at a dotted path of the canonical form, e.g. {@code tee.snp.measurements}. */
    public record Change(Kind kind, String path, String value) {
        @Override
        public String toString() {
            return kind.sign + " " + path + ": " + value;
        }
    }

    /** Removed values revoke, added ones admit, changed settings show old and new. */
    public enum Kind {
        REMOVED("-"), ADDED("+"), CHANGED("~");

        private final String sign;

        Kind(String sign) {
            this.sign = sign;
        }
    }

    private PolicyDiff() {
    }

    /** The changes from {@code before} to {@code after}, removals first, each group by path. */
    public static List<Change> between(AttestationPolicy before, AttestationPolicy after) {
        Map<String, Set<String>> a = flatten(before.canonicalJson());
        Map<String, Set<String>> b = flatten(after.canonicalJson());
        Set<String> paths = new TreeSet<>(a.keySet());
        paths.addAll(b.keySet());
        List<Change> removed = new ArrayList<>();
        List<Change> added = new ArrayList<>();
        List<Change> changed = new ArrayList<>();
        for (String path : paths) {
            Set<String> x = a.getOrDefault(path, Set.of());
            Set<String> y = b.getOrDefault(path, Set.of());
            boolean scalar = x.size() <= 1 && y.size() <= 1 && !path.endsWith("]");
            if (scalar && x.size() == 1 && y.size() == 1) {
                if (!x.equals(y)) {
                    changed.add(new Change(Kind.CHANGED, path, x.iterator().next() + " -> " + y.iterator().next()));
                }
                continue;
            }
            for (String v : x) {
                if (!y.contains(v)) {
                    removed.add(new Change(Kind.REMOVED, strip(path), v));
                }
            }
            for (String v : y) {
                if (!x.contains(v)) {
                    added.add(new Change(Kind.ADDED, strip(path), v));
                }
            }
        }
        List<Change> out = new ArrayList<>(removed);
        out.addAll(added);
        out.addAll(changed);
        return out;
    }

    /** Every leaf of the canonical form by dotted path; list members under {@code path[]}. */
    private static Map<String, Set<String>> flatten(String canonicalJson) {
        Map<String, Set<String>> out = new TreeMap<>();
        try {
            walk(JSON.readTree(canonicalJson), "", out);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void walk(JsonNode n, String path, Map<String, Set<String>> out) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                walk(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), out);
            }
        } else if (n.isArray()) {
            Set<String> values = out.computeIfAbsent(path + "[]", k -> new TreeSet<>());
            n.forEach(v -> values.add(v.asText()));
        } else {
            out.computeIfAbsent(path, k -> new TreeSet<>()).add(n.asText());
        }
    }

    private static String strip(String path) {
        return path.endsWith("[]") ? path.substring(0, path.length() - 2) : path;
    }
}
