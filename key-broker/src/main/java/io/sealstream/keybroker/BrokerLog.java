package io.sealstream.keybroker;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.transparency.LogEntry;
import io.sealstream.transparency.TransparencyLog;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Clock;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What the key broker writes to its transparency log (docs/transparency.md): each policy when it
 * comes into force, this broker's measurement, and each topic's public keyset when a key becomes
 * primary and when it is demoted. Each is appended before the state it describes is saved, so the
 * log never lacks what a client may be shown; recording what the log already holds appends nothing.
 */
final class BrokerLog implements Closeable {
    /** Where the log lives in the data directory. */
    static final String DIRECTORY = "transparency";

    private final TransparencyLog log;
    private final PublicKey publicKey;

    private BrokerLog(TransparencyLog log, PublicKey publicKey) {
        this.log = log;
        this.publicKey = publicKey;
    }

    /** Opens the log in {@code dataDir}, signing with {@code key}, which its saved head must verify under. */
    static BrokerLog open(Path dataDir, KeyPair key, Clock clock) {
        try {
            return new BrokerLog(TransparencyLog.open(dataDir.resolve(DIRECTORY), key.getPrivate(), key.getPublic(), clock),
                    key.getPublic());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the transparency log in " + dataDir.resolve(DIRECTORY)
                    + "; check that it is writable", e);
        }
    }

    /** Whether {@code dataDir} holds a log (its signed head). */
    static boolean existsIn(Path dataDir) {
        return TransparencyLog.exists(dataDir.resolve(DIRECTORY));
    }

    TransparencyLog log() {
        return log;
    }

    PublicKey publicKey() {
        return publicKey;
    }

    /** The index of the entry that puts {@code policy} in force: the latest policy entry if it is this one, else a new one. */
    long recordPolicy(AttestationPolicy policy) {
        OptionalLong latest = log.findLast(e -> e.type() == LogEntry.Type.POLICY);
        if (latest.isPresent() && policy.id().equals(log.entry(latest.getAsLong()).fields().get("policy_id"))) {
            return latest.getAsLong();
        }
        return log.append(LogEntry.Type.POLICY, Map.of("policy_id", policy.id(), "policy",
                Base64.getEncoder().encodeToString(policy.canonicalJson().getBytes(StandardCharsets.US_ASCII)))).index();
    }

    /** The index of the entry naming this broker's build ({@code tee}, launch measurement), appended once. */
    long recordMeasurement(String tee, String measurementHex) {
        OptionalLong found = log.findLast(e -> e.type() == LogEntry.Type.BROKER_MEASUREMENT
                && tee.equals(e.fields().get("tee")) && measurementHex.equals(e.fields().get("measurement")));
        return found.isPresent() ? found.getAsLong()
                : log.append(LogEntry.Type.BROKER_MEASUREMENT, Map.of("tee", tee, "measurement", measurementHex)).index();
    }

    /**
     * Records a change of {@code before}'s primary key to {@code after}'s (before is null for a new
     * topic): the new primary's public keyset, then the old primary's demotion at {@code at}.
     * Nothing when the primary stayed.
     */
    void recordPrimary(TopicKeyset before, TopicKeyset after, java.time.Instant at) {
        if (before != null && before.primaryKeyId() == after.primaryKeyId()) {
            return;
        }
        appendPrimary(after);
        if (before != null) {
            log.append(LogEntry.Type.TOPIC_KEY_DEMOTED, Map.of("topic", before.topic(), "key_id",
                    Long.toString(before.primaryKeyId()), "demoted_at", at.toString()));
        }
    }

    /**
     * Logs a worker's admission: the lease, the TEE type and measurement verified, the policy it was
     * judged under, the models it loaded and when the lease ends. Returns its index.
     */
    long recordLease(String leaseId, String tee, String measurementHex, String policyId, java.util.List<byte[]> models,
                     String servedModels, java.time.Instant expiresAt) {
        String digests = String.join(".", models.stream().map(java.util.HexFormat.of()::formatHex).sorted().toList());
        Map<String, String> fields = new java.util.HashMap<>(Map.of("lease_id", leaseId, "tee", tee,
                "measurement", measurementHex, "policy_id", policyId, "models", digests,
                "expires_at", expiresAt.toString()));
        if (!servedModels.isEmpty()) {
            fields.put("served_models", servedModels); // name=digest pairs, as the worker named its models
        }
        return log.append(LogEntry.Type.LEASE, fields).index();
    }

    /** Logs the primary key of every keyset the log lacks (state written before this broker kept a log). */
    void recordPrimaries(Collection<TopicKeyset> keysets) {
        Set<String> logged = new HashSet<>();
        long size = log.size();
        for (long start = 0; start < size; start += TransparencyLog.MAX_ENTRIES_PER_READ) {
            for (byte[] bytes : log.entries(start, Math.min(size, start + TransparencyLog.MAX_ENTRIES_PER_READ))) {
                LogEntry e = LogEntry.parse(bytes);
                if (e.type() == LogEntry.Type.TOPIC_KEY) {
                    logged.add(e.fields().get("topic") + "/" + e.fields().get("key_id"));
                }
            }
        }
        for (TopicKeyset k : keysets) {
            if (!logged.contains(k.topic() + "/" + k.primaryKeyId())) {
                appendPrimary(k);
            }
        }
    }

    private void appendPrimary(TopicKeyset k) {
        log.append(LogEntry.Type.TOPIC_KEY, Map.of("topic", k.topic(), "key_id", Long.toString(k.primaryKeyId()),
                "keyset", Base64.getEncoder().encodeToString(k.publicKeys().toBytes()),
                "created_at", k.primaryCreatedAt().toString()));
    }

    @Override
    public void close() throws IOException {
        log.close();
    }
}
