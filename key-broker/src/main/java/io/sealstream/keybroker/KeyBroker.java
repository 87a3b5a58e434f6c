package io.sealstream.keybroker;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.nvidia.GpuClaims;
import io.sealstream.attestation.nvidia.GpuEvidence;
import io.sealstream.attestation.nvidia.GpuVerifier;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.TeeKeyPair;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.metrics.Meters;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.audit.AuditTrail;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.CustodyStatus;
import io.sealstream.keybroker.api.HandoverGrant;
import io.sealstream.keybroker.api.HandoverRequest;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.RecoveryOffer;
import io.sealstream.keybroker.api.PolicyChallenge;
import io.sealstream.keybroker.api.PolicyChange;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.custody.OwnerChallenges;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import io.sealstream.keybroker.custody.RootCustody;
import io.sealstream.keybroker.custody.RootSecret;
import io.sealstream.keybroker.custody.SealedKeysetStore;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyRelease;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.keybroker.api.LogEntries;
import io.sealstream.keybroker.api.LogHead;
import io.sealstream.keybroker.api.LogKey;
import io.sealstream.keybroker.api.LogProof;
import io.sealstream.keybroker.api.PublicTopicKeys;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key broker's logic, independent of HTTP: nonces, attestation against the policy, leases,
 * key release to attested TEE keys, public keys with the broker's own evidence, provisioning and
 * rotation. Every decision is an {@code audit.*} log event with ids and codes only.
 */
public final class KeyBroker {
    private static final Logger LOG = LoggerFactory.getLogger(KeyBroker.class);
    private static final Set<AttestationFailure> NOT_ATTESTED = Set.of(
            AttestationFailure.MALFORMED_EVIDENCE, AttestationFailure.UNSUPPORTED_VERSION,
            AttestationFailure.BAD_SIGNATURE, AttestationFailure.BAD_CERTIFICATE_CHAIN,
            AttestationFailure.UNKNOWN_ROOT, AttestationFailure.CERTIFICATE_EXPIRED,
            AttestationFailure.CERTIFICATE_REVOKED, AttestationFailure.TCB_MISMATCH,
            AttestationFailure.REPORT_DATA_MISMATCH, AttestationFailure.STALE_NONCE,
            AttestationFailure.EVIDENCE_TOO_OLD, AttestationFailure.BAD_COLLATERAL,
            AttestationFailure.COLLATERAL_EXPIRED, AttestationFailure.RUNTIME_CLAIMS_UNBOUND,
            AttestationFailure.VTPM_MISMATCH);

    private final KeyBrokerConfig config;
    private volatile AttestationPolicy policy;
    private final OwnerChallenges ownerChallenges;
    private final RootCustody custody;
    private volatile SealedKeysetStore store;
    /** The transparency log, open once the root is held. */
    private volatile BrokerLog log;
    /** Where the log holds the policy in force and this broker's measurement (null: not logged). */
    private volatile PolicyEntry policyLogIndex;

    /** Where the log holds a policy: one reference, so the id and the index are read together. */
    private record PolicyEntry(String policyId, long index) {
    }
    private volatile Long measurementLogIndex;
    private volatile boolean policyConflict;
    /** A key retired and the root has not ratcheted past it yet. */
    private boolean ratchetPending;
    private final NonceRegistry nonces;
    private final LeaseTokens leases;
    private final BrokerMeters meters;
    /** GPUs are judged against NVIDIA's pinned root, whatever the policy. */
    private final GpuVerifier gpuVerifier = GpuVerifier.withNvidiaRoot();
    /** Every decision: a log line and an event on the audit topic. */
    private final AuditTrail audit;
    /** Key requests without a valid lease since the last summary event. */
    private final java.util.concurrent.atomic.AtomicLong unattestedDenials = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, TopicKeyset> keysets = new ConcurrentHashMap<>();
    /** TEE reports made at once for public-key calls: a flood queues here instead of taking every thread. */
    private final java.util.concurrent.Semaphore evidenceSlots = new java.util.concurrent.Semaphore(2);

    public KeyBroker(KeyBrokerConfig config) {
        this(config, Meters.none());
    }

    /** A broker that counts its decisions in {@code meters}. */
    public KeyBroker(KeyBrokerConfig config, Meters meters) {
        this.config = config;
        this.meters = new BrokerMeters(meters);
        this.audit = new AuditTrail(config.clock(), config.auditSink());
        this.policy = config.policy();
        this.ownerChallenges = new OwnerChallenges(config.clock());
        this.nonces = new NonceRegistry(config.nonceTtl(), config.clock());
        this.leases = new LeaseTokens(config.leaseTtl(), config.clock());
        this.meters.bind(this, leases, config.rotationInterval(), config.auditSink());
        this.custody = RootCustody.start(config.custody(), config.dataDir(), policy, config.ownEvidence(),
                config.verifiers(), config.clock(), audit);
        custody.root().ifPresentOrElse(this::openKeysets, () -> LOG.warn("keybroker.awaiting_recovery policy_id={} "
                + "hint=the_owner_runs_sealstream_key-broker_recover", policy.id()));
    }

    /** Loads the sealed keysets under {@code root}, refusing anything it did not seal, and provisions the configured topics. */
    private synchronized void openKeysets(RootSecret held) {
        SealedKeysetStore.locked(config.dataDir(), () -> {
            // under the lock, so no replica ratchets between reading the epoch and cleaning up
            RootSecret root = held;
            Optional<RootSecret> ahead = custody.ahead();
            if (ahead.isPresent()) {
                root = ahead.get(); // a replica ratcheted since this one obtained the root
            }
            SealedKeysetStore opened = new SealedKeysetStore(config.dataDir(), root, custody.epoch());
            try {
                keysets.putAll(opened.loadAll());
            } catch (SealedKeysetStore.RefusedStateException e) {
                audit.record("custody.refused", "code", e.code());
                throw e;
            }
            if (opened.stateVersion() < custody.grantedStateVersion()) {
                audit.record("custody.refused", "code", "rolled_back", "state_on_disk", opened.stateVersion(),
                        "state_of_peer", custody.grantedStateVersion());
                throw new SealedKeysetStore.RefusedStateException("rolled_back", "the shared data directory holds "
                        + "keyset state " + opened.stateVersion() + ", older than the state "
                        + custody.grantedStateVersion() + " the replica that handed over the root serves: it was rolled "
                        + "back. Restore the current state");
            }
            ahead.ifPresent(custody::adopt);
            opened.removeOtherEpochs(); // earlier epochs (and a ratchet interrupted before its record) are gone
            this.store = opened;
            Optional<java.security.KeyPair> existing = opened.logKey();
            if (existing.isPresent() && !BrokerLog.existsIn(config.dataDir())) {
                audit.record("custody.refused", "code", "missing", "what", "transparency_log");
                throw new SealedKeysetStore.RefusedStateException("missing", "the sealed state names a transparency log "
                        + "key but " + config.dataDir().resolve(BrokerLog.DIRECTORY) + " holds no log: it was removed, "
                        + "and a fresh one would rewrite history under the same key. Restore it from a replica's volume");
            }
            java.security.KeyPair logKey = existing.orElseGet(opened::createLogKey);
            if (log == null) {
                log = BrokerLog.open(config.dataDir(), logKey, config.clock());
            }
            long recorded = opened.logSizeOnDisk();
            if (log.log().size() < recorded) {
                audit.record("custody.refused", "code", "rolled_back", "what", "transparency_log");
                throw new SealedKeysetStore.RefusedStateException("rolled_back", "the transparency log holds "
                        + log.log().size() + " entries, but the sealed state recorded " + recorded + ": the log was "
                        + "rolled back. Restore the current log from a replica's volume; never serve an older one");
            }
            BrokerLog openedLog = log;
            opened.recordLogSizeFrom(() -> openedLog.log().size());
            log.recordPrimaries(keysets.values());
            return null;
        });
        policyLogIndex = new PolicyEntry(policy.id(), log.recordPolicy(policy));
        measurementLogIndex = recordOwnMeasurement();
        String writtenUnder = store.policyIdOnDisk();
        if (writtenUnder != null && !writtenUnder.equals(policy.id()) && !keysets.isEmpty()) {
            // started under another policy than the state was written under: a change by restart,
            // which must revoke like a live one
            audit.record("policy.changed", "policy_id", policy.id(), "previous_policy_id", writtenUnder,
                    "via", "restart");
            meters.policyChanged();
            rotateEveryTopic(config.clock().instant(), "policy_change", policy.id());
        }
        config.topics().forEach(this::provision);
        LOG.info("keybroker.ready custody={} topics={} policy_id={}", custody.mode().id(), new TreeSet<>(keysets.keySet()),
                policy.id());
    }

    /**
     * Logs this broker's own measurement, read from evidence it makes for itself and checked by
     * the verifier it judges workers with; null (and an error line) when its own evidence does not
     * verify here, in which case clients that require the log refuse it until that is fixed.
     */
    private Long recordOwnMeasurement() {
        try {
            Evidence own = config.ownEvidence().attest(new byte[64]);
            EvidenceVerifier verifier = config.verifiers().get(own.tee());
            if (verifier == null) {
                LOG.error("keybroker.log.measurement_unlogged code=tee_not_allowed tee={}", own.tee().id());
                return null;
            }
            AttestedClaims self = verifier.verify(own, config.clock().instant());
            return log.recordMeasurement(self.tee().id(), self.measurementHex());
        } catch (AttestationException e) {
            LOG.error("keybroker.log.measurement_unlogged code={}", e.failure().code());
            return null;
        }
    }

    /** Creates the topic's keyset unless it exists. */
    public synchronized void provision(String topic) {
        SealedKeysetStore store = this.store;
        if (store == null) {
            throw new IllegalStateException("the key broker awaits recovery; it cannot provision topics yet");
        }
        store.locked(() -> {
            followRatchet();
            SealedKeysetStore current = this.store;
            if (current.stateVersionOnDisk() > current.stateVersion()) {
                keysets.putAll(current.loadAll()); // a replica sharing the data directory may have provisioned it
            }
            if (!keysets.containsKey(topic)) {
                TopicKeyset k = TopicKeyset.generate(topic, config.clock().instant());
                log.recordPrimary(null, k, k.primaryCreatedAt());
                current.save(k, policy.id());
                keysets.put(topic, k);
                audit.record("topic.provisioned", "topic", topic, "key_id", k.primaryKeyId());
            }
            return null;
        });
    }

    /**
     * Publishes the next key to workers {@link KeyBrokerConfig#pendingLead()} before a rotation is
     * due, promotes it when it is due, retires keys whose grace ended; persists what changed. Clients
     * only ever see the primary, so they move to a key every worker that refreshed in time holds.
     */
    public synchronized void rotateDue() {
        auditUnattested();
        SealedKeysetStore current = this.store;
        if (current == null) {
            return;
        }
        current.locked(() -> {
            followRatchet();
            SealedKeysetStore store = this.store;
            if (leftBehind(store)) {
                return null; // another replica enforces a newer policy: take and rotate nothing under the old one
            }
            long onDisk = store.stateVersionOnDisk();
            if (onDisk < store.stateVersion()) {
                LOG.error("keybroker.state_rolled_back state_on_disk={} state_served={}", onDisk, store.stateVersion());
                audit.record("custody.refused", "code", "rolled_back", "state_on_disk", onDisk,
                        "state_served", store.stateVersion());
                return null; // keep serving the newer state held in memory; write nothing over the older one
            }
            if (onDisk > store.stateVersion()) {
                // a replica sharing the data directory wrote: take its keysets before deciding anything
                keysets.putAll(store.loadAll());
                LOG.info("keybroker.keysets_reloaded state_version={}", store.stateVersion());
            }
            if (rotateLoaded(store)) {
                ratchetPending = true;
            }
            if (ratchetPending) {
                ratchet(); // retried at the next check if it fails: the retired key must not stay on disk
                ratchetPending = false;
            }
            return null;
        });
    }

    /**
     * After a key retired: moves the root's ratchet, so the files that held the retired key, and
     * the root that opens them, are destroyed; what remains on disk or in a later root's hands
     * cannot bring the key back (crypto-shredding).
     */
    private void ratchet() {
        SealedKeysetStore old = store;
        SealedKeysetStore[] resealed = new SealedKeysetStore[1];
        String policyId = policy.id();
        custody.ratchet((root, epoch) -> resealed[0] = old.reseal(keysets, root, epoch, policyId));
        store = resealed[0];
        store.removeOtherEpochs();
    }

    /** Under the directory lock: follows a ratchet a replica sharing the data directory made. */
    private void followRatchet() {
        custody.ahead().ifPresent(root -> {
            SealedKeysetStore followed = store.followedTo(root, custody.epoch());
            try {
                keysets.putAll(followed.loadAll());
            } catch (RuntimeException e) {
                root.close(); // the held root stays; the next check tries again
                throw e;
            }
            custody.adopt(root);
            store = followed;
            LOG.info("keybroker.ratchet_followed epoch={}", followed.epoch());
        });
    }

    /**
     * Whether a replica sharing the data directory wrote under another policy (the owner changed
     * it there): this replica then releases nothing until the owner changes it here too, so a
     * worker revoked on one replica cannot fetch the fresh keys from another.
     */
    private boolean leftBehind(SealedKeysetStore store) {
        String onDisk = store.policyIdOnDisk();
        boolean behind = onDisk != null && !onDisk.equals(policy.id());
        if (behind != policyConflict) {
            policyConflict = behind;
            audit.record("policy.replica_conflict", "policy_id", policy.id(), "written_under", onDisk,
                    "releasing", !behind);
        }
        return behind;
    }

    /** Rotates and retires what is due; whether any key was retired. */
    private boolean rotateLoaded(SealedKeysetStore store) {
        boolean retiredAny = false;
        Instant now = config.clock().instant();
        for (TopicKeyset k : keysets.values()) {
            TopicKeyset next = k;
            Instant due = k.primaryCreatedAt().plus(config.rotationInterval());
            if (k.pendingKeyId().isEmpty() && !now.isBefore(due.minus(config.pendingLead()))) {
                next = next.withPending(now);
                audit.record("topic.key_published", "topic", next.topic(),
                        "pending_key_id", next.pendingKeyId().orElse(-1L), "promote_at", due,
                        "version", next.version());
            }
            if (!now.isBefore(due)) {
                long old = next.primaryKeyId();
                next = next.promotePending(now);
                audit.record("topic.rotated", "topic", next.topic(), "primary_key_id", next.primaryKeyId(),
                        "demoted_key_id", old, "version", next.version());
                meters.rotated("scheduled");
            }
            TopicKeyset retired = next.retireExpired(now, config.grace());
            if (retired != next) {
                audit.record("topic.keys_retired", "topic", retired.topic(),
                        "keys_retired", retired.retiredKeys() - next.retiredKeys(), "version", retired.version());
                meters.retired(retired.retiredKeys() - next.retiredKeys());
                next = retired;
                retiredAny = true;
            }
            if (next != k) {
                log.recordPrimary(k, next, now);
                store.save(next, policy.id());
                keysets.put(next.topic(), next);
            }
        }
        return retiredAny;
    }

    /** {@code POST /v1/policy/challenge}: a key sealed to the owner's recovery key, to MAC a new policy with. */
    public PolicyChallenge policyChallenge() throws KeyBrokerException {
        byte[] owner = policy.keyBroker().recoveryKey().orElseThrow(() -> new KeyBrokerException(403, "no_owner_key",
                "the policy names no key-broker.recovery-key, so no one can change it while the broker runs; restart "
                        + "the broker with the new policy"));
        try {
            OwnerChallenges.Issued issued = ownerChallenges.issue(owner);
            return new PolicyChallenge(issued.nonce(), issued.sealedKey(), policy.id(), issued.expiresAt().toString());
        } catch (GeneralSecurityException e) {
            throw new KeyBrokerException(500, "bad_owner_key", "the policy's recovery key is not an HPKE key of the v1 suite");
        }
    }

    /**
     * {@code POST /v1/policy}: enforces a new policy the owner MAC'd under a challenge. Leases under
     * the old policy stop counting at once (every worker attests again at its next refresh or key
     * request; one the new policy refuses gets nothing more and its lease runs out), and every
     * topic gets a fresh primary key at once, released only under the new policy: a key published
     * earlier, which a now-revoked worker may hold, never becomes primary.
     */
    public synchronized PolicyChanged changePolicy(PolicyChange change) throws KeyBrokerException {
        if (store == null) {
            requireKeys(); // awaiting recovery: say so
        }
        if (change == null || !ownerChallenges.verify(change.nonce(), policy.id(), change.policy(), change.mac())) {
            audit.record("policy.change_denied", "code", "not_owner");
            throw new KeyBrokerException(401, "not_owner", "the change is not MAC'd under an outstanding challenge by "
                    + "the owner's recovery key (or the challenge expired or was used); get a new challenge");
        }
        AttestationPolicy next;
        try {
            next = AttestationPolicy.parse(change.policy());
        } catch (io.sealstream.attestation.policy.PolicyException e) {
            throw new KeyBrokerException(400, "bad_policy", e.getMessage());
        }
        AttestationPolicy previous = policy;
        if (!java.util.Arrays.equals(next.keyBroker().recoveryKey().orElse(null),
                previous.keyBroker().recoveryKey().orElse(null))) {
            throw new KeyBrokerException(400, "owner_key_changed", "a live change keeps key-broker.recovery-key; to "
                    + "change the owner key, restart the broker with the new policy and recover it");
        }
        Instant now = config.clock().instant();
        if (next.id().equals(previous.id())) {
            return new PolicyChanged(next.id(), previous.id(), List.of(), now.toString());
        }
        // the log first, so no client is shown a policy the log lacks; then the keys, under the new
        // policy id: if either fails, the old policy stays in force and the owner's retry does the
        // whole change again (the log may then hold the new policy once more, later)
        long logged = log.recordPolicy(next);
        List<String> rotated = rotateEveryTopic(now, "policy_change", next.id());
        policy = next;
        policyLogIndex = new PolicyEntry(next.id(), logged);
        custody.usePolicy(next);
        policyConflict = false;
        meters.policyChanged();
        audit.record("policy.changed", "policy_id", next.id(), "previous_policy_id", previous.id(),
                "removed_measurements", removed(measurements(previous), measurements(next)),
                "removed_models", removed(previous.allowedModelDigests(), next.allowedModelDigests()));
        return new PolicyChanged(next.id(), previous.id(), rotated, now.toString());
    }

    /**
     * Gives every topic a fresh primary at once, written under the policy now in force. A pending
     * key was released under the previous policy: it is demoted with the primary, never promoted.
     */
    private List<String> rotateEveryTopic(Instant now, String reason, String policyId) {
        List<String> rotated = new java.util.ArrayList<>();
        this.store.locked(() -> {
            followRatchet();
            SealedKeysetStore store = this.store;
            if (store.stateVersionOnDisk() > store.stateVersion()) {
                keysets.putAll(store.loadAll());
            }
            for (TopicKeyset k : keysets.values()) {
                TopicKeyset demoted = k.pendingKeyId().isPresent() ? k.promotePending(now) : k;
                TopicKeyset fresh = demoted.rotate(now);
                log.recordPrimary(k, fresh, now);
                store.save(fresh, policyId);
                keysets.put(fresh.topic(), fresh);
                rotated.add(fresh.topic());
                meters.rotated(reason);
                audit.record("topic.rotated", "topic", fresh.topic(), "primary_key_id", fresh.primaryKeyId(),
                        "demoted_key_id", k.primaryKeyId(), "version", fresh.version(), "reason", reason);
            }
            return null;
        });
        java.util.Collections.sort(rotated);
        return rotated;
    }

    private static Set<String> measurements(AttestationPolicy p) {
        Set<String> out = new TreeSet<>();
        p.snp().ifPresent(r -> out.addAll(r.measurements()));
        p.tdx().ifPresent(r -> out.addAll(r.mrtd()));
        // on Azure the measurement is the paravisor's: the pinned PCR values are the workload's identity
        p.azureSnp().ifPresent(r -> out.addAll(withPcrs(r.measurements(), r.pcrs())));
        p.azureTdx().ifPresent(r -> out.addAll(withPcrs(r.mrtd(), r.pcrs())));
        return out;
    }

    /** Measurements and PCR pins as one set, the pins as {@code pcrN:value}. */
    private static Set<String> withPcrs(Set<String> measurements, java.util.Map<Integer, Set<String>> pcrs) {
        Set<String> out = new TreeSet<>(measurements);
        pcrs.forEach((i, values) -> values.forEach(v -> out.add("pcr" + i + ":" + v)));
        return out;
    }

    private static Set<String> removed(Set<String> before, Set<String> after) {
        Set<String> out = new TreeSet<>(before);
        out.removeAll(after);
        return out;
    }

    /** {@code POST /v1/auth}. */
    public AuthChallenge challenge() {
        NonceRegistry.Issued n = nonces.issue();
        return new AuthChallenge(n.nonce(), n.expiresAt().toString());
    }

    private static final java.util.regex.Pattern MODEL_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    /**
     * The served models of {@code request} as the lease entry holds them: {@code name=digest}
     * pairs, sorted, joined by '/' (which no model name holds); each digest must be one the evidence binds.
     */
    private static String servedModels(AttestRequest request) throws KeyBrokerException {
        Set<String> digests = new java.util.HashSet<>();
        request.modelDigests().forEach(d -> digests.add(java.util.HexFormat.of().formatHex(d)));
        if (request.servedModels().size() > AttestRequest.MAX_SERVED_NAMES) {
            throw new KeyBrokerException(400, "bad_request", "served_models holds at most "
                    + AttestRequest.MAX_SERVED_NAMES + " names");
        }
        List<String> pairs = new ArrayList<>();
        for (Map.Entry<String, String> e : request.servedModels().entrySet()) {
            if (e.getKey() == null || !MODEL_NAME.matcher(e.getKey()).matches() || e.getValue() == null
                    || !digests.contains(e.getValue())) {
                throw new KeyBrokerException(400, "bad_request", "served_models maps model names (1 to 128 letters, "
                        + "digits or '.', '_', ':', '-') to the hex SHA-256 of one of model_digests");
            }
            pairs.add(e.getKey() + "=" + e.getValue());
        }
        java.util.Collections.sort(pairs);
        return String.join("/", pairs);
    }

    /** {@code POST /v1/attest}: 401 when the evidence is not genuine or not bound, 403 when the policy denies it. */
    public LeaseGrant attest(AttestRequest request) throws KeyBrokerException {
        AttestationPolicy policy = this.policy; // one policy for the whole decision, even across a change
        if (request == null || request.nonce() == null || request.evidence() == null
                || request.teePublicKey() == null || request.modelDigests() == null) {
            throw new KeyBrokerException(400, "bad_request",
                    "an attestation needs nonce, evidence, tee_public_key and model_digest");
        }
        if (request.gpuEvidence().size() > AttestRequest.MAX_GPUS || request.gpuEvidence().stream().anyMatch(g -> g == null
                || g.report() == null || g.certificates() == null)) {
            throw new KeyBrokerException(400, "bad_request", "gpu_evidence holds at most " + AttestRequest.MAX_GPUS
                    + " GPU reports, each with its certificate chain");
        }
        if (request.modelDigests().isEmpty() || request.modelDigests().size() > AttestRequest.MAX_MODELS
                || request.modelDigests().stream().anyMatch(d -> d == null || d.length != 32)) {
            throw new KeyBrokerException(400, "bad_request", "model_digests must hold 1 to " + AttestRequest.MAX_MODELS
                    + " 32-byte SHA-256 digests, one per model the worker loaded");
        }
        String served = servedModels(request);
        // checked now, remembered as used only once the evidence verified: callers with garbage
        // evidence cannot fill the used-nonce set
        if (nonces.check(request.nonce()) != NonceRegistry.Use.FRESH) {
            throw deny(AttestationFailure.STALE_NONCE, "the nonce is unknown, expired or used; get a new one from POST /v1/auth");
        }
        Evidence evidence;
        try {
            evidence = request.evidence().toEvidence();
            TeeKeyPair.requireValidPublicKey(request.teePublicKey());
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new KeyBrokerException(400, "bad_request", e.getMessage());
        }
        EvidenceVerifier verifier = config.verifiers().get(evidence.tee());
        if (verifier == null) {
            throw deny(AttestationFailure.TEE_NOT_ALLOWED, "this broker does not accept " + evidence.tee().id() + " evidence");
        }
        Instant now = config.clock().instant();
        AttestedClaims claims;
        try {
            claims = verifier.verify(evidence, now);
            byte[] expected = ReportDataBinding.forWorker(request.nonce(), request.teePublicKey(),
                    ReportDataBinding.modelSetDigest(request.modelDigests()));
            policy.check(claims, expected, request.modelDigests(), now);
            List<GpuClaims> gpus = new ArrayList<>();
            byte[] gpuNonce = ReportDataBinding.forGpu(expected);
            Set<String> leaves = new java.util.HashSet<>();
            for (GpuEvidence g : request.gpuEvidence()) {
                // before any signature is checked: one GPU sent eight times is one GPU, and costs nothing to refuse
                if (g.certificates().isEmpty()
                        || !leaves.add(java.util.HexFormat.of().formatHex(ReportDataBinding.sha256(g.certificates().get(0))))) {
                    throw new AttestationException(AttestationFailure.GPU_NOT_ALLOWED, "the same GPU's evidence is sent "
                            + "twice, or a GPU's evidence has no certificate; send each GPU once with its chain");
                }
            }
            for (GpuEvidence g : request.gpuEvidence()) {
                gpus.add(gpuVerifier.verify(g, gpuNonce, now));
            }
            policy.checkGpus(gpus);
        } catch (AttestationException e) {
            throw deny(e.failure(), e.getMessage());
        }
        switch (nonces.markUsed(request.nonce())) {
            case INVALID -> throw deny(AttestationFailure.STALE_NONCE,
                    "the nonce was used by another attestation meanwhile; get a new one from POST /v1/auth");
            case BUSY -> throw new KeyBrokerException(503, "busy",
                    "the key broker remembers too many used nonces; retry in a minute");
            case FRESH -> { }
        }
        LeaseTokens.Issued issued = leases.issue(request.teePublicKey(), policy.id(), claims.tee().id(),
                claims.measurementHex());
        long logIndex;
        try {
            // in the log before the worker can use it: every answer names a lease the log holds
            logIndex = openLog().recordLease(issued.lease().id(), claims.tee().id(), claims.measurementHex(), policy.id(),
                    request.modelDigests(), served, issued.lease().expiresAt());
        } catch (RuntimeException e) {
            leases.revoke(issued.lease().id()); // a lease the log lacks is never used
            LOG.error("keybroker.log.append_failed what=lease error={}", e.getClass().getSimpleName());
            throw new KeyBrokerException(503, "log_unavailable", "the key broker cannot append the lease to its "
                    + "transparency log (its disk refused); retry, and alert the operator if it persists");
        }
        meters.attestationAccepted();
        audit.record("attest.accepted", "tee", claims.tee().id(), "simulated", claims.simulated(),
                "measurement", claims.measurementHex(), "gpus", request.gpuEvidence().size(), "lease", issued.lease().id(),
                "expires_at", issued.lease().expiresAt());
        return new LeaseGrant(issued.token(), issued.lease().expiresAt().toString(), policy.id(), claims.tee().id(),
                claims.measurementHex(), logIndex);
    }

    /** {@code GET /v1/keys/{topic}} with a lease token: the keyset encrypted to the attested TEE key. */
    public KeyRelease release(String token, String topic) throws KeyBrokerException {
        requireKeys();
        LeaseTokens.Lease lease = leases.verify(token, policy.id()).orElseThrow(() -> {
            // anyone can send a bad token: counted, and audited as one summary per rotation check
            // (auditUnattested), so unauthenticated callers cannot flood the permanent audit topic
            unattestedDenials.incrementAndGet();
            meters.releaseDenied("not_attested");
            return new KeyBrokerException(401, "not_attested",
                    "the lease token is missing, invalid, expired or from another policy; attest again");
        });
        TopicKeyset keyset = keysets.get(topic);
        if (keyset == null) {
            audit.record("release.denied", "topic", topic, "lease", lease.id(), "code", "unknown_topic");
            meters.releaseDenied("unknown_topic");
            throw new KeyBrokerException(404, "unknown_topic", "no keyset for topic '" + topic
                    + "'; provision the topic on the key broker first");
        }
        try {
            byte[] released = keyset.releaseTo(lease.teePublicKey(), token);
            meters.releaseGranted();
            audit.record("release.granted", "topic", topic, "lease", lease.id(),
                    "primary_key_id", keyset.primaryKeyId());
            return new KeyRelease(topic, released, keyset.primaryKeyId(), lease.expiresAt().toString());
        } catch (GeneralSecurityException e) {
            throw new KeyBrokerException(400, "bad_request", "the attested TEE key cannot receive keys: " + e.getMessage());
        }
    }

    /**
     * {@code GET /v1/keys/{topic}/public?nonce=}: the public keyset, the policy, and this broker's
     * evidence binding the client's nonce, the keyset and the policy id.
     */
    public PublicTopicKeys publicKeys(String topic, byte[] nonce) throws KeyBrokerException {
        if (nonce == null || nonce.length < 16 || nonce.length > 64) {
            throw new KeyBrokerException(400, "bad_request", "nonce must be 16 to 64 random bytes, base64url-encoded");
        }
        requireKeys();
        TopicKeyset keyset = keysets.get(topic);
        if (keyset == null) {
            throw new KeyBrokerException(404, "unknown_topic", "no keyset for topic '" + topic
                    + "'; ask the operator to provision it");
        }
        TopicPublicKeys pub = keyset.publicKeys();
        // no waiting: a caller that queued here would hold an HTTP thread
        if (!evidenceSlots.tryAcquire()) {
            throw new KeyBrokerException(503, "busy", "the key broker is producing evidence for other callers; retry");
        }
        try {
            return publicKeysWithEvidence(topic, nonce, keyset, pub);
        } finally {
            evidenceSlots.release();
        }
    }

    private PublicTopicKeys publicKeysWithEvidence(String topic, byte[] nonce, TopicKeyset keyset, TopicPublicKeys pub)
            throws KeyBrokerException {
        AttestationPolicy policy = this.policy;
        byte[] logKey = openLog().publicKey().getEncoded();
        byte[] reportData = ReportDataBinding.forKeyBroker(nonce, ReportDataBinding.sha256Hex(pub.fingerprint()),
                ReportDataBinding.sha256Hex(policy.id()), topic, custody.mode().id(), ReportDataBinding.sha256(logKey));
        try {
            Evidence own = config.ownEvidence().attest(reportData);
            return new PublicTopicKeys(topic, pub.toBytes(), pub.primaryKeyId(), pub.fingerprint(), policy.toYaml(),
                    policy.id(), custody.mode().id(), EvidenceMessage.of(own),
                    // when the next primary is surely promoted: due, plus at most one rotation check
                    keyset.primaryCreatedAt().plus(config.rotationInterval()).plus(config.rotationCheck()).toString(),
                    config.ownTdxCollateral().orElse(null), logKey, logIndexOf(policy), measurementLogIndex);
        } catch (AttestationException e) {
            LOG.error("keybroker.own_evidence.failed code={}", e.failure().code());
            throw new KeyBrokerException(503, "evidence_unavailable",
                    "the key broker could not produce its own evidence; retry, and alert the operator if it persists");
        }
    }

    /** Where the log holds {@code p}; null while a change to it is between its log entry and its use. */
    private Long logIndexOf(AttestationPolicy p) {
        PolicyEntry e = policyLogIndex;
        return e != null && e.policyId().equals(p.id()) ? e.index() : null;
    }

    /** {@code GET /v1/log/head}. */
    public LogHead logHead() throws KeyBrokerException {
        return LogHead.of(openLog().log().head());
    }

    /** {@code GET /v1/log/entries?start=&end=}. */
    public LogEntries logEntries(long start, long end) throws KeyBrokerException {
        try {
            return new LogEntries(start, openLog().log().entries(start, end));
        } catch (IllegalArgumentException e) {
            throw new KeyBrokerException(400, "bad_request", e.getMessage());
        }
    }

    /** {@code GET /v1/log/proof/inclusion?index=&size=}. */
    public LogProof inclusionProof(long index, long size) throws KeyBrokerException {
        try {
            return new LogProof(openLog().log().inclusionProof(index, size));
        } catch (IllegalArgumentException e) {
            throw new KeyBrokerException(400, "bad_request", e.getMessage());
        }
    }

    /** {@code GET /v1/log/proof/consistency?first=&second=}. */
    public LogProof consistencyProof(long first, long second) throws KeyBrokerException {
        try {
            if (first < 0 || first > second) {
                throw new IllegalArgumentException("a consistency proof runs from a smaller size to a larger one, not "
                        + first + " to " + second);
            }
            return new LogProof(openLog().log().consistencyProof(first, second));
        } catch (IllegalArgumentException e) {
            throw new KeyBrokerException(400, "bad_request", e.getMessage());
        }
    }

    /** {@code GET /v1/log/key}. */
    public LogKey logKey() throws KeyBrokerException {
        return new LogKey(openLog().publicKey().getEncoded());
    }

    private BrokerLog openLog() throws KeyBrokerException {
        BrokerLog l = log;
        if (l == null) {
            throw new KeyBrokerException(503, "awaiting_recovery", "the key broker holds no root yet, so its "
                    + "transparency log is closed until the owner runs 'sealstream key-broker recover'");
        }
        return l;
    }

    /** {@code GET /v1/custody}. */
    public CustodyStatus custodyStatus() {
        return new CustodyStatus(custody.mode().id(), store == null ? CustodyStatus.AWAITING_RECOVERY : CustodyStatus.READY,
                custody.root().map(RootSecret::idHex).orElse(""));
    }

    /** {@code POST /v1/custody/handover}: the root for a replica that attests under this policy with a fresh nonce. */
    public HandoverGrant handover(HandoverRequest request) throws KeyBrokerException {
        if (request == null || request.nonce() == null || request.joinerNonce() == null || request.joinerNonce().length != 32
                || request.evidence() == null || request.teePublicKey() == null) {
            throw new KeyBrokerException(400, "bad_request", "a handover needs nonce, joiner_nonce (32 bytes), evidence "
                    + "and tee_public_key");
        }
        if (nonces.check(request.nonce()) != NonceRegistry.Use.FRESH) {
            audit.record("custody.handover_denied", "code", "stale_nonce");
            throw new KeyBrokerException(401, "stale_nonce", "the nonce is unknown, expired or used; get a new one from "
                    + "POST /v1/auth");
        }
        SealedKeysetStore held = store;
        HandoverGrant grant = custody.grantHandover(request, held == null ? 0 : held.stateVersion());
        if (nonces.markUsed(request.nonce()) != NonceRegistry.Use.FRESH) {
            throw new KeyBrokerException(401, "stale_nonce", "the nonce was used meanwhile; get a new one from POST /v1/auth");
        }
        return grant;
    }

    /** {@code GET /v1/custody/recovery?nonce=}: what the owner's tool checks before it returns the root. */
    public RecoveryOffer recoveryOffer(byte[] ownerNonce) throws KeyBrokerException {
        return custody.recoveryOffer(ownerNonce);
    }

    /** {@code POST /v1/custody/recovery}: takes the escrowed root back and starts serving keys. */
    public synchronized CustodyStatus recover(RecoveryDelivery delivery) throws KeyBrokerException {
        if (store != null) {
            throw new KeyBrokerException(409, "not_awaiting_recovery", "this broker holds its root; nothing to recover");
        }
        RootSecret root = custody.recover(delivery);
        try {
            openKeysets(root);
            custody.confirmRecovered(root);
        } catch (RuntimeException | KeyBrokerException e) {
            // nothing half-ready: no store, no keysets, no root; the owner can run the recovery again
            store = null;
            keysets.clear();
            root.close();
            LOG.error("keybroker.recovery.refused_state error={}", e.getMessage());
            throw new KeyBrokerException(409, "refused_state", e.getMessage() + "; the broker still awaits recovery: "
                    + "fix the data directory, then run 'sealstream key-broker recover' again");
        }
        return custodyStatus();
    }

    /** Zeroes the root; the server calls it when it stops. */
    public void close() {
        BrokerLog l = log;
        if (l != null) {
            try {
                l.close();
            } catch (java.io.IOException e) {
                LOG.warn("keybroker.log.close_failed error={}", e.getClass().getSimpleName());
            }
        }
        custody.close();
        audit.close();
    }

    private void requireKeys() throws KeyBrokerException {
        if (store == null) {
            throw new KeyBrokerException(503, "awaiting_recovery", "the key broker restarted without a replica to take "
                    + "its root from and holds no keys until the owner runs 'sealstream key-broker recover'");
        }
        if (policyConflict) {
            throw new KeyBrokerException(503, "policy_changed_elsewhere", "another key-broker replica enforces a newer "
                    + "policy; this one releases nothing until the owner runs 'sealstream key-broker policy' against it too");
        }
    }

    /** The policy in force. */
    public AttestationPolicy policy() {
        return policy;
    }

    /** The keyset of {@code topic} as the broker holds it; for tests of the rotation schedule. */
    TopicKeyset keyset(String topic) {
        return keysets.get(topic);
    }

    /** Audits the key requests refused for want of a lease since the last call, as one event. */
    void auditUnattested() {
        long n = unattestedDenials.getAndSet(0);
        if (n > 0) {
            audit.record("release.denied", "code", "not_attested", "requests", n);
        }
    }

    /** Age of the oldest primary topic key in seconds (0 with no topic): the rotation-overdue gauge. */
    double oldestPrimaryKeySeconds() {
        Instant now = config.clock().instant();
        return keysets.values().stream().mapToDouble(k -> java.time.Duration.between(k.primaryCreatedAt(), now)
                .toMillis() / 1000.0).max().orElse(0);
    }

    /** The provisioned topics. */
    public Set<String> topics() {
        return Set.copyOf(keysets.keySet());
    }

    private KeyBrokerException deny(AttestationFailure failure, String message) {
        int status = NOT_ATTESTED.contains(failure) ? 401 : 403;
        meters.attestationDenied(failure.code());
        audit.record("attest.denied", "code", failure.code(), "status", status);
        String detail = message.startsWith(failure.code() + ": ") ? message.substring(failure.code().length() + 2) : message;
        return new KeyBrokerException(status, failure.code(), detail);
    }
}
