package io.sealstream.client;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.azure.AzureVerifier;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxVerifier;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.api.CustodyMode;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import io.sealstream.transparency.LogEntry;
import io.sealstream.transparency.LogMonitor;
import io.sealstream.transparency.SignedTreeHead;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a topic's public keys with a fresh nonce and accepts them only if, in this order: the
 * broker's evidence verifies; its report_data binds the nonce, the SHA-256 of the keyset served,
 * the policy id, the topic and the custody mode; the custody is sealed (or dev custody is allowed);
 * its measurement is pinned; the policy served hashes to its id and that id is the pinned one; the
 * broker's claims meet that policy's rules for the broker ({@link AttestationPolicy#checkKeyBroker}:
 * simulated, debug, migration agent, TCB, its measurement, HOST_DATA or RTMRs); and, with a
 * {@link LogTrust}, that the log key it binds is the pinned one, that the log's head is consistent
 * with the last one this client kept, that the policy and the measurement are entries proven in it,
 * and that the policy is old enough. Fails closed with a message naming what did not match.
 */
final class BrokerVerifier {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerVerifier.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyBrokerClient broker;
    private final BrokerTrust trust;
    private final Clock clock;
    private final LogMonitor logMonitor;

    BrokerVerifier(KeyBrokerClient broker, BrokerTrust trust, Clock clock) {
        this.broker = broker;
        this.trust = trust;
        this.clock = clock;
        this.logMonitor = trust.log() == null ? null : trust.log().monitor(clock);
    }

    /** The families the broker lists; a hint, trusted for nothing but where to look. */
    java.util.List<String> topics() throws io.sealstream.keybroker.api.KeyBrokerException {
        return broker.topics().topics();
    }

    VerifiedTopic verify(String topic) {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        PublicTopicKeys served;
        try {
            served = broker.publicKeys(topic, nonce);
        } catch (KeyBrokerException e) {
            throw new KeyUnavailableException("cannot get the public keys of topic '" + topic + "' from the key broker at "
                    + broker.baseUrl() + ": " + e.getMessage(), e);
        }
        AttestedClaims claims;
        try {
            Evidence evidence = served.evidence().toEvidence();
            claims = verifierFor(evidence.tee(), served.tdxCollateral()).orElse(trust.verifier()).verify(evidence, clock.instant());
        } catch (AttestationException e) {
            throw new AttestationFailedException(e.failure().code(), "the key broker's evidence does not verify: "
                    + e.getMessage() + "; do not send data to this key broker", e);
        } catch (IllegalArgumentException e) {
            throw new AttestationFailedException("malformed_evidence", "the key broker sent unusable evidence: "
                    + e.getMessage(), e);
        }
        byte[] keysetSha = sha256(served.keyset());
        CustodyMode custody;
        try {
            custody = CustodyMode.fromId(served.custody());
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new AttestationFailedException("malformed_evidence", "the key broker does not say how it holds its "
                    + "root secret; do not send data to this key broker", null);
        }
        if (served.logKey() == null) {
            throw new AttestationFailedException("malformed_evidence", "the key broker serves no transparency log key; "
                    + "it is older than this client: upgrade the key broker", null);
        }
        byte[] expected = ReportDataBinding.forKeyBroker(nonce, keysetSha, ReportDataBinding.sha256Hex(
                requireHexId(served.policyId())), topic, custody.id(), sha256(served.logKey()));
        if (!ReportDataBinding.matches(expected, claims)) {
            throw new AttestationFailedException("report_data_mismatch", "the key broker's evidence does not bind this "
                    + "client's nonce, the keyset it served, its policy id, the topic asked for, its custody mode and its "
                    + "log key; the answer may be replayed or the keys swapped: do not send data", null);
        }
        if (!custody.isSealed() && !trust.allowDevCustody()) {
            throw new AttestationFailedException("dev_custody", "the key broker keeps its root secret in a file its host "
                    + "can read (dev custody), so the host can read every key; a strict client sends nothing to it. "
                    + "Use allowingDevCustody() only against the simulated dev stack", null);
        }
        if (!trust.measurements().contains(claims.measurementHex())) {
            throw new PolicyMismatchException("the key broker runs measurement " + claims.measurementHex()
                    + ", not one of the pinned " + trust.measurements() + "; update the pin only if you trust the new build");
        }
        AttestationPolicy policy;
        try {
            policy = AttestationPolicy.parse(served.policy());
        } catch (IllegalArgumentException e) {
            throw new PolicyMismatchException("the key broker serves a policy that does not parse: " + e.getMessage());
        }
        if (!policy.id().equals(served.policyId())) {
            throw new PolicyMismatchException("the policy the key broker serves hashes to " + policy.id()
                    + " but it claims id " + served.policyId() + "; do not send data");
        }
        if (!policy.id().equals(trust.policyId())) {
            throw new PolicyMismatchException("the key broker enforces policy " + policy.id() + ", not the pinned "
                    + trust.policyId() + "; review the new policy and update the pin if you accept it");
        }
        try {
            // the pinned policy's rules for the broker itself, the same engine that judges workers: a broker
            // relaunched with debugging on, a migration agent, below the TCB minimum or as another workload is refused
            policy.checkKeyBroker(claims, expected, java.util.Optional.of(clock.instant()));
        } catch (AttestationException e) {
            throw new AttestationFailedException(e.failure().code(), "the key broker's evidence does not meet the "
                    + "pinned policy '" + policy.name() + "': " + e.detail() + "; do not send data to this key broker", e);
        }
        TopicPublicKeys keys;
        try {
            keys = TopicPublicKeys.parse(topic, served.keyset());
        } catch (GeneralSecurityException e) {
            throw new AttestationFailedException("bad_keyset", "the key broker served a keyset that is not of the v1 "
                    + "HPKE suite: " + e.getMessage(), e);
        }
        Optional<VerifiedTopic.LogCheck> logged = logMonitor == null ? Optional.empty()
                : Optional.of(checkLog(served, policy, claims));
        LOG.info("client.broker.verified topic={} measurement={} simulated={} policy_id={} primary_key_id={} log_size={}",
                topic, claims.measurementHex(), claims.simulated(), policy.id(), keys.primaryKeyId(),
                logged.map(l -> l.head().size()).orElse(-1L));
        return new VerifiedTopic(keys, policy, claims, clock.instant(), rotatesAt(served.primaryRotatesAt()), logged);
    }

    /**
     * The log's side: the key the broker's evidence binds is the pinned one; the head is consistent
     * with the last one kept; the policy (this exact document) and the measurement just verified are
     * entries proven included in it; the policy is old enough.
     */
    private VerifiedTopic.LogCheck checkLog(PublicTopicKeys served, AttestationPolicy policy, AttestedClaims claims) {
        if (!MessageDigest.isEqual(served.logKey(), trust.log().logKey().getEncoded())) {
            throw new AttestationFailedException("log_key_mismatch", "the key broker's transparency log signs with "
                    + "another key than the pinned one: it is another deployment, or its log was started afresh; do not "
                    + "send data, and ask the operator why", null);
        }
        if (served.policyLogIndex() == null || served.measurementLogIndex() == null) {
            throw new AttestationFailedException("not_in_log", "the key broker does not say where its log holds the "
                    + "policy and its measurement; it could not log its own measurement (see its log) or is older than "
                    + "this client: do not send data", null);
        }
        LogMonitor.LogSource source = broker.logSource();
        try {
            SignedTreeHead head = logMonitor.update(source);
            long policyIndex = served.policyLogIndex();
            LogEntry policyEntry = entry(policyIndex, head);
            String document = policyEntry.fields().get("policy");
            if (policyEntry.type() != LogEntry.Type.POLICY || !policy.id().equals(policyEntry.fields().get("policy_id"))
                    || document == null || !java.util.Arrays.equals(decode(document),
                            policy.canonicalJson().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
                throw new AttestationFailedException("not_in_log", "log entry " + policyIndex + " is not the policy "
                        + policy.id() + " the key broker serves; do not send data", null);
            }
            logMonitor.requireIncluded(policyEntry, policyIndex, source);
            logMonitor.requirePolicyAged(policyEntry);
            long measurementIndex = served.measurementLogIndex();
            LogEntry measurementEntry = entry(measurementIndex, head);
            if (measurementEntry.type() != LogEntry.Type.BROKER_MEASUREMENT
                    || !claims.tee().id().equals(measurementEntry.fields().get("tee"))
                    || !claims.measurementHex().equals(measurementEntry.fields().get("measurement"))) {
                throw new AttestationFailedException("not_in_log", "log entry " + measurementIndex + " is not the "
                        + claims.tee().id() + " measurement " + claims.measurementHex() + " the key broker runs; do not "
                        + "send data", null);
            }
            logMonitor.requireIncluded(measurementEntry, measurementIndex, source);
            return new VerifiedTopic.LogCheck(head, policyIndex, policyEntry.at(), measurementIndex);
        } catch (LogMonitor.LogVerificationException e) {
            throw new AttestationFailedException(e.code(), "the key broker's transparency log: " + e.getMessage(), e);
        } catch (java.io.IOException | KeyBrokerException e) {
            throw new KeyUnavailableException("cannot check the key broker's transparency log at " + broker.baseUrl()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Lease entries proven in the log, by lease id; a lease not proven is asked again after {@link #UNPROVEN_RETRY}. */
    private final java.util.Map<String, LeaseVerdict> leases = new java.util.concurrent.ConcurrentHashMap<>();
    private static final int MAX_LEASES = 4096;
    static final java.time.Duration UNPROVEN_RETRY = java.time.Duration.ofSeconds(30);

    /** The lease's log entry as proven, or null when it could not be proven at {@code at}. */
    private record LeaseVerdict(LogEntry entry, java.time.Instant at) {
    }

    /** Proofs under way, by lease id: the answers that arrive meanwhile wait for the same one. */
    private final java.util.Map<String, java.util.concurrent.CompletableFuture<LeaseVerdict>> proving =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Whether the log proves {@code bound}'s lease: entry {@code lease_log_index} is that lease,
     * included in a head consistent with every head this client kept, with the same TEE type and
     * measurement and the serving model among its models. Answered at once from what this client
     * already proved of the lease; otherwise one proof per lease runs on {@code executor} and every
     * answer under that lease waits for it. Never fails: an unreachable or misbehaving log is a
     * lease not proven (asked again after {@link #UNPROVEN_RETRY}).
     */
    java.util.concurrent.CompletableFuture<Boolean> leaseInLog(io.sealstream.schemas.v1.Provenance bound,
                                                                java.time.Instant sealedAt,
                                                                java.util.concurrent.Executor executor) {
        if (logMonitor == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(false);
        }
        LeaseVerdict known = leases.get(bound.getLeaseId());
        if (known != null && (known.entry() != null || !known.at().plus(UNPROVEN_RETRY).isBefore(clock.instant()))) {
            return java.util.concurrent.CompletableFuture.completedFuture(proves(known.entry(), bound, sealedAt));
        }
        java.util.concurrent.CompletableFuture<LeaseVerdict> proof = proving.compute(bound.getLeaseId(),
                (id, underWay) -> underWay != null && !underWay.isDone() ? underWay
                        : java.util.concurrent.CompletableFuture.supplyAsync(() -> prove(bound), executor));
        proof.whenComplete((v, e) -> proving.remove(bound.getLeaseId(), proof));
        return proof.thenApply(v -> proves(v.entry(), bound, sealedAt));
    }

    /** How long after its lease's end an answer may still be sealed: requests opened just before it ended. */
    static final java.time.Duration LEASE_END_GRACE = java.time.Duration.ofMinutes(1);

    /**
     * Whether the proven lease entry {@code lease} (null: not proven) covers an answer: it states
     * the answer's TEE, measurement and model, was granted under the policy this client pins, and
     * had not ended when the answer was sealed.
     */
    private boolean proves(LogEntry lease, io.sealstream.schemas.v1.Provenance bound, java.time.Instant sealedAt) {
        if (lease == null || !states(lease, bound) || !trust.policyId().equals(lease.fields().get("policy_id"))) {
            return false;
        }
        try {
            return !sealedAt.isAfter(java.time.Instant.parse(lease.fields().get("expires_at")).plus(LEASE_END_GRACE));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Proves {@code bound}'s lease and records the verdict. */
    private LeaseVerdict prove(io.sealstream.schemas.v1.Provenance bound) {
        LogEntry proven;
        try {
            proven = proveLease(bound);
        } catch (LogMonitor.LogVerificationException e) {
            LOG.error("client.provenance.log_refused lease_id={} code={}",
                    io.sealstream.attestation.EvidenceText.printable(bound.getLeaseId()), e.code());
            if (!"not_in_log".equals(e.code())) {
                // not an unknown lease but a log that lies: nothing it vouches for can be relied on
                logFailure = new AttestationFailedException(e.code(), "the key broker's transparency log: "
                        + e.getMessage(), e);
            }
            proven = null;
        } catch (java.io.IOException | KeyBrokerException | RuntimeException e) {
            LOG.warn("client.provenance.unproven lease_id={} error={}",
                    io.sealstream.attestation.EvidenceText.printable(bound.getLeaseId()), e.getClass().getSimpleName());
            proven = null;
        }
        LeaseVerdict verdict = new LeaseVerdict(proven, clock.instant());
        if (leases.size() >= MAX_LEASES) {
            leases.clear(); // leases turn over; bounded memory matters more than proving a few again
        }
        leases.put(bound.getLeaseId(), verdict);
        return verdict;
    }

    /**
     * Every entry of the key broker's log, audited: read whole and rebuilt into the tree the head
     * the client accepted signs (consistent with every head it kept). Empty for a trust without a
     * log. A log that fails the audit stops the client, as a failed lease proof does.
     *
     * @throws AttestationFailedException when the log fails the audit
     * @throws KeyUnavailableException when the log cannot be read
     */
    List<LogEntry> auditedLog() {
        if (logMonitor == null) {
            return List.of();
        }
        try {
            return logMonitor.audit(broker.logSource());
        } catch (LogMonitor.LogVerificationException e) {
            logFailure = new AttestationFailedException(e.code(), "the key broker's transparency log: " + e.getMessage(), e);
            throw logFailure;
        } catch (java.io.IOException | RuntimeException e) {
            throw new KeyUnavailableException("the key broker's transparency log could not be read ("
                    + e.getClass().getSimpleName() + "); retry", e);
        }
    }

    /** Whether the lease entry says what {@code bound} claims. */
    private static boolean states(LogEntry lease, io.sealstream.schemas.v1.Provenance bound) {
        return AnswerProvenance.of(bound, false).isStatedBy(lease);
    }

    /**
     * Why the log can no longer be trusted, once a lease proof met a forked, shrunk, rewritten or
     * foreign log; null while it can. The client then sends nothing more.
     */
    AttestationFailedException logFailure() {
        return logFailure;
    }

    private volatile AttestationFailedException logFailure;

    /** The log entry of {@code bound}'s lease, proven included; null if the index names no such lease. */
    private LogEntry proveLease(io.sealstream.schemas.v1.Provenance bound)
            throws LogMonitor.LogVerificationException, java.io.IOException, KeyBrokerException {
        long index = bound.getLeaseLogIndex();
        if (index < 0) {
            return null;
        }
        LogMonitor.LogSource source = broker.logSource();
        Optional<SignedTreeHead> kept = logMonitor.lastHead();
        SignedTreeHead head = kept.isPresent() && index < kept.get().size() ? kept.get() : logMonitor.update(source);
        if (index >= head.size()) {
            return null;
        }
        LogEntry lease = entry(index, head);
        if (lease.type() != LogEntry.Type.LEASE || !bound.getLeaseId().equals(lease.fields().get("lease_id"))) {
            return null;
        }
        logMonitor.requireIncluded(lease, index, source);
        return lease;
    }

    /** Entry {@code index} as the broker serves it; proven by the caller, parsed here. */
    private LogEntry entry(long index, SignedTreeHead head) throws KeyBrokerException {
        if (index < 0 || index >= head.size()) {
            throw new AttestationFailedException("not_in_log", "the key broker points at log entry " + index
                    + ", outside the log of " + head.size() + " it signed; do not send data", null);
        }
        List<byte[]> one = broker.logEntries(index, index + 1).entries();
        try {
            if (one == null || one.size() != 1) {
                throw new IllegalArgumentException("not one entry");
            }
            return LogEntry.parse(one.get(0));
        } catch (IllegalArgumentException e) {
            throw new AttestationFailedException("not_in_log", "the key broker served log entry " + index
                    + " in no canonical form; do not send data", e);
        }
    }

    private static byte[] decode(String base64) {
        try {
            return java.util.Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }

    /**
     * For a broker on TDX that serves Intel's collateral for its platform: a verifier that judges its
     * quote's TCB status with it (the collateral is signed by Intel, so where it comes from does not
     * matter; its validity window is checked). Empty otherwise: the pinned verifier decides, and TDX
     * evidence without collateral has no TCB status, which no policy accepts.
     *
     * @throws AttestationException BAD_COLLATERAL or MALFORMED_EVIDENCE for collateral that cannot be used
     */
    static Optional<EvidenceVerifier> verifierFor(TeeType tee,
            String tdxCollateral) throws AttestationException {
        if (tee.hardware() != TeeType.TDX || tdxCollateral == null) {
            return Optional.empty();
        }
        if (tdxCollateral.length() > PublicTopicKeys.MAX_COLLATERAL) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the key broker "
                    + "serves " + tdxCollateral.length() + " characters of collateral, more than any platform's");
        }
        TdxVerifier tdx = TdxVerifier.withIntelRoot()
                .withCollateral(List.of(TdxCollateral.fromQuoteCollateralJson(tdxCollateral)));
        return Optional.of(tee.azure()
                ? AzureVerifier.of(SnpVerifier.withAmdRoots(), tdx)
                : tdx);
    }

    private static String requireHexId(String id) {
        if (id == null || !id.matches("[0-9a-f]{64}")) {
            throw new PolicyMismatchException("the key broker sent policy id '" + id + "', not a SHA-256 in hex");
        }
        return id;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }


    /** The served rotation hint, if it is a valid instant. */
    private static java.util.Optional<java.time.Instant> rotatesAt(String iso) {
        try {
            return iso == null ? Optional.empty() : java.util.Optional.of(java.time.Instant.parse(iso));
        } catch (java.time.format.DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
