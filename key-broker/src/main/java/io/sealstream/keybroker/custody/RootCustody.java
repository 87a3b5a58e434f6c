package io.sealstream.keybroker.custody;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.audit.AuditTrail;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.CustodyMode;
import io.sealstream.keybroker.api.CustodyRecordMessage;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.HandoverGrant;
import io.sealstream.keybroker.api.HandoverRequest;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.RecoveryOffer;
import io.sealstream.keybroker.client.KeyBrokerClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How this key broker came by its root secret and what it keeps about it on disk
 * ({@code custody.json}: the root id and, in {@code recovery} custody, the root escrowed to the
 * owner's key with evidence of the broker that escrowed it). Each custody step is an
 * {@code audit.custody.*} event. The root itself is held here, in memory, and nowhere else.
 */
public final class RootCustody implements AutoCloseable {
    private static final String RECORD = "custody.json";
    private static final String DEV_ROOT = "root.dev";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CustodyMode mode;
    private final Path dataDir;
    private volatile AttestationPolicy policy;
    private final EvidenceProvider ownEvidence;
    private final Map<TeeType, EvidenceVerifier> verifiers;
    private final Clock clock;
    private final AuditTrail audit;
    /** This process's TEE key for receiving the root; never leaves memory. */
    private final SealingKeyPair teeKey = SealingKeyPair.generate();
    private volatile RootSecret root;
    /** The keyset state counter the replica that handed the root over held: this one loads nothing older. */
    private volatile long grantedStateVersion;

    /**
     * What {@code custody.json} holds: the root id of the current epoch of the ratchet (the sealed
     * keysets live in {@code keysets/<epoch>/}) and, in recovery custody, the escrow of that root;
     * {@code recovery} is null outside recovery custody.
     */
    record Record(int format, String rootId, long epoch, CustodyRecordMessage recovery) {
    }

    private RootCustody(Custody custody, Path dataDir, AttestationPolicy policy, EvidenceProvider ownEvidence,
                        Map<TeeType, EvidenceVerifier> verifiers, Clock clock, AuditTrail audit) {
        this.audit = audit;
        this.mode = custody.mode();
        this.dataDir = dataDir;
        this.policy = policy;
        this.ownEvidence = ownEvidence;
        this.verifiers = verifiers;
        this.clock = clock;
    }

    /**
     * Obtains the root as {@code custody} says: from the dev file, from the peer (blocking, one
     * attempt), or, in recovery custody, by making one at first start. A restarted recovery
     * broker starts without it and waits for {@link #recover}.
     *
     * @throws IllegalStateException with what to do, when the data directory belongs to another root
     *     or the peer refuses or cannot be trusted
     */
    public static RootCustody start(Custody custody, Path dataDir, AttestationPolicy policy, EvidenceProvider ownEvidence,
                                    Map<TeeType, EvidenceVerifier> verifiers, Clock clock, AuditTrail audit) {
        RootCustody c = new RootCustody(custody, dataDir, policy, ownEvidence, verifiers, clock, audit);
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create key broker data directory " + dataDir, e);
        }
        if (custody instanceof Custody.Peer p) {
            c.startPeer(p.peerUrl());
        } else if (custody instanceof Custody.Recovery) {
            c.startRecovery();
        } else {
            c.startDev();
        }
        return c;
    }

    /** The policy replicas and the owner are checked against from now on (after an owner's policy change). */
    public void usePolicy(AttestationPolicy next) {
        this.policy = next;
    }

    public CustodyMode mode() {
        return mode;
    }

    /** The root, once held. */
    public Optional<RootSecret> root() {
        return Optional.ofNullable(root);
    }

    private void startDev() {
        Path file = dataDir.resolve(DEV_ROOT);
        RootSecret r;
        try {
            if (Files.exists(file)) {
                r = RootSecret.of(Files.readAllBytes(file));
            } else {
                r = RootSecret.generate();
                writeDevRoot(r);
                audit.record("custody.root_created", "mode", "dev", "root_id", r.idHex());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the dev root " + file, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(file + " is not a dev root secret (32 bytes); remove it to start a fresh "
                    + "dev deployment", e);
        }
        Optional<Record> existing = readRecord();
        if (existing.isPresent()) {
            r = advanceTo(existing.get(), r, "the dev root file");
            writeDevRoot(r); // completes a ratchet interrupted between the record and the file
        } else {
            createRecord(new Record(1, r.idHex(), 0, null), r);
        }
        hold(r, "loaded");
    }

    private void startRecovery() {
        byte[] ownerKey = policy.keyBroker().recoveryKey().orElseThrow(() -> new IllegalStateException(
                "recovery custody needs the owner's recovery public key in the policy (key-broker.recovery-key); "
                        + "make one with 'sealstream key-broker recovery-key'"));
        Optional<Record> existing = readRecord();
        if (existing.isPresent()) {
            if (existing.get().recovery() == null) {
                throw new IllegalStateException(dataDir.resolve(RECORD) + " has no escrow for the owner: this data "
                        + "directory was made in dev custody. Start a fresh deployment in recovery custody");
            }
            audit.record("custody.awaiting_recovery", "root_id", existing.get().rootId(),
                    "owner_key_sha256", existing.get().recovery().ownerKeySha256());
            return;
        }
        refuseOrphanKeysets();
        RootSecret r = RootSecret.generate();
        createRecord(escrow(r, ownerKey, 0), r);
        audit.record("custody.root_created", "mode", "recovery", "root_id", r.idHex(),
                "owner_key_sha256", hex(ReportDataBinding.sha256(ownerKey)));
        hold(r, "created");
    }

    private void startPeer(String peerUrl) {
        Record record = readRecord().orElseThrow(() -> new IllegalStateException("peer custody joins a running "
                + "deployment and shares its data directory, but " + dataDir.resolve(RECORD) + " is missing: "
                + "point data.dir at the volume the serving replica uses"));
        KeyBrokerClient peer = new KeyBrokerClient(peerUrl, Duration.ofSeconds(20));
        RootSecret r;
        try {
            r = takeFrom(peer);
        } catch (KeyBrokerException e) {
            audit.record("custody.handover_failed", "peer", peerAddress(peerUrl), "code", e.code());
            throw new IllegalStateException("the replica at " + peerUrl + " did not hand over the root: "
                    + e.getMessage(), e);
        }
        r = advanceTo(record, r, "the replica at " + peerUrl);
        hold(r, "received_from_peer");
    }

    /** The joining side of a handover: verify the peer, then open the root it sealed to this TEE key. */
    private RootSecret takeFrom(KeyBrokerClient peer) throws KeyBrokerException {
        AuthChallenge challenge = peer.challenge();
        byte[] joinerNonce = new byte[32];
        RANDOM.nextBytes(joinerNonce);
        byte[] policyId = ReportDataBinding.sha256Hex(policy.id());
        EvidenceMessage own = evidence(ReportDataBinding.forCustody("handover-request", challenge.nonce(),
                ReportDataBinding.sha256(teeKey.publicKey()), policyId));
        HandoverGrant grant = peer.handover(new HandoverRequest(challenge.nonce(), joinerNonce, own, teeKey.publicKey()));
        if (grant.sealedRoot() == null || grant.rootId() == null || !grant.rootId().matches("[0-9a-f]{64}")) {
            throw new KeyBrokerException(502, "bad_answer", "the handover grant lacks the sealed root or its id");
        }
        try {
            ReplicaEvidence.verify(verifiers, policy, grant.evidence(), ReportDataBinding.forCustody("handover-grant",
                    joinerNonce, ReportDataBinding.sha256(grant.sealedRoot()), policyId,
                    ReportDataBinding.sha256Hex(grant.rootId()), counterDigest(grant.stateVersion())), clock.instant(), true);
            grantedStateVersion = grant.stateVersion();
        } catch (AttestationException e) {
            throw new KeyBrokerException(502, e.failure().code(), "the serving replica's evidence is not trusted: "
                    + e.getMessage() + "; this replica takes nothing from it");
        }
        try {
            RootSecret r = RootSecret.openFrom(teeKey, grant.sealedRoot(), handoverContext(policyId));
            if (!r.idHex().equals(grant.rootId())) {
                throw new KeyBrokerException(502, "bad_answer", "the handed-over root does not have the id the peer attested");
            }
            return r;
        } catch (GeneralSecurityException e) {
            throw new KeyBrokerException(502, "bad_answer", "the handed-over root does not open with this replica's key");
        }
    }

    /**
     * The serving side of a handover, after the caller checked the nonce: the joiner's evidence
     * must bind the nonce, its key and this policy, and show a key-broker measurement.
     */
    public HandoverGrant grantHandover(HandoverRequest request, long stateVersion) throws KeyBrokerException {
        RootSecret r = root;
        if (r == null) {
            throw new KeyBrokerException(503, "awaiting_recovery", "this replica does not hold the root either; "
                    + "the owner must recover one replica first");
        }
        if (mode == CustodyMode.DEV) {
            throw new KeyBrokerException(403, "dev_custody", "a replica in dev custody does not hand over its root; "
                    + "start the other replica in dev custody on the same data directory instead");
        }
        byte[] policyId = ReportDataBinding.sha256Hex(policy.id());
        AttestedClaims claims;
        try {
            claims = ReplicaEvidence.verify(verifiers, policy, request.evidence(), ReportDataBinding.forCustody(
                    "handover-request", request.nonce(), ReportDataBinding.sha256(request.teePublicKey()), policyId),
                    clock.instant(), true);
        } catch (AttestationException e) {
            audit.record("custody.handover_denied", "code", e.failure().code());
            int status = e.failure() == io.sealstream.attestation.AttestationFailure.UNKNOWN_MEASUREMENT
                    || e.failure() == io.sealstream.attestation.AttestationFailure.SIMULATED_NOT_ALLOWED ? 403 : 401;
            throw new KeyBrokerException(status, e.failure().code(), "the joining replica is not trusted with the root: "
                    + e.getMessage());
        }
        try {
            byte[] sealed = r.sealTo(request.teePublicKey(), handoverContext(policyId));
            EvidenceMessage own = evidence(ReportDataBinding.forCustody("handover-grant", request.joinerNonce(),
                    ReportDataBinding.sha256(sealed), policyId, r.id(), counterDigest(stateVersion)));
            audit.record("custody.handover_granted", "measurement", claims.measurementHex(), "root_id", r.idHex());
            return new HandoverGrant(sealed, r.idHex(), stateVersion, own);
        } catch (GeneralSecurityException e) {
            throw new KeyBrokerException(400, "bad_request", "the joining replica's TEE key cannot receive the root: "
                    + e.getMessage());
        }
    }

    /** While awaiting recovery: the escrow record and a fresh binding of this TEE's key to the owner's nonce. */
    public RecoveryOffer recoveryOffer(byte[] ownerNonce) throws KeyBrokerException {
        if (root != null) {
            throw new KeyBrokerException(409, "not_awaiting_recovery", "this broker holds its root; nothing to recover");
        }
        if (ownerNonce == null || ownerNonce.length != 32) {
            throw new KeyBrokerException(400, "bad_request", "nonce must be 32 random bytes, base64url-encoded");
        }
        CustodyRecordMessage record = readRecord().map(Record::recovery).orElseThrow(() ->
                new KeyBrokerException(409, "not_awaiting_recovery", "this broker has no escrow record"));
        EvidenceMessage own = evidence(ReportDataBinding.forCustody("recovery-offer", ownerNonce,
                ReportDataBinding.sha256(teeKey.publicKey()), ReportDataBinding.sha256Hex(policy.id()),
                ReportDataBinding.sha256Hex(record.rootId())));
        audit.record("custody.recovery_offered", "root_id", record.rootId());
        return new RecoveryOffer(record, teeKey.publicKey(), policy.toYaml(), policy.id(), own);
    }

    /**
     * Opens the root the owner sealed to this TEE's key; it must be the escrowed one. Not held
     * until {@link #confirmRecovered}.
     */
    public RootSecret recover(RecoveryDelivery delivery) throws KeyBrokerException {
        if (root != null) {
            throw new KeyBrokerException(409, "not_awaiting_recovery", "this broker holds its root; nothing to recover");
        }
        Record record = readRecord().orElseThrow(() -> new KeyBrokerException(409, "not_awaiting_recovery",
                "this broker has no escrow record"));
        if (delivery == null || delivery.nonce() == null || delivery.nonce().length != 32 || delivery.sealedRoot() == null) {
            throw new KeyBrokerException(400, "bad_request", "a recovery needs the offer's 32-byte nonce and the sealed root");
        }
        RootSecret r;
        try {
            r = RootSecret.openFrom(teeKey, delivery.sealedRoot(), recoveryContext(delivery.nonce()));
        } catch (GeneralSecurityException e) {
            audit.record("custody.recovery_refused", "code", "bad_seal");
            throw new KeyBrokerException(400, "bad_seal", "the root was not sealed to this broker's offer (another "
                    + "broker, an older offer, or altered); run 'sealstream key-broker recover' again");
        }
        if (!r.idHex().equals(record.rootId())) {
            r.close();
            audit.record("custody.recovery_refused", "code", "wrong_root");
            throw new KeyBrokerException(400, "wrong_root", "the delivered root is not the one this deployment "
                    + "escrowed (id " + record.rootId().substring(0, 16) + "…); use the recovery key named in its policy");
        }
        return r;
    }

    /**
     * Holds a root {@link #recover} returned, once the broker checked the keysets under it: a
     * recovery whose state check failed leaves the broker awaiting recovery, not stuck.
     */
    public void confirmRecovered(RootSecret r) throws KeyBrokerException {
        KeyBrokerException[] failed = new KeyBrokerException[1];
        SealedKeysetStore.locked(dataDir, () -> {
            // re-read under the lock: a replica may have ratcheted since the recovery began
            Record record = readRecord().orElse(null);
            if (record == null || !record.rootId().equals(r.idHex())) {
                failed[0] = new KeyBrokerException(409, "refused_state", "the custody record changed during the "
                        + "recovery (another replica ratcheted); start this broker in peer custody instead");
                return null;
            }
            try {
                refreshEscrowEvidence(record, r);
            } catch (KeyBrokerException e) {
                failed[0] = e;
            }
            return null;
        });
        if (failed[0] != null) {
            throw failed[0];
        }
        hold(r, "recovered");
    }

    /** What the replica that handed the root over held (0 outside peer custody). */
    public long grantedStateVersion() {
        return grantedStateVersion;
    }

    private static byte[] counterDigest(long stateVersion) {
        return ReportDataBinding.sha256(java.nio.ByteBuffer.allocate(8).putLong(stateVersion).array());
    }

    /** The context a handed-over root is sealed under: the policy both replicas enforce. */
    private static byte[] handoverContext(byte[] policyId) {
        return ReportDataBinding.forCustody("handover-root", policyId);
    }

    /** The context the owner seals a recovered root under: the offer's nonce. */
    public static byte[] recoveryContext(byte[] ownerNonce) {
        return ReportDataBinding.forCustody("recovery-root", ownerNonce);
    }

    /** The context the root is escrowed to the owner under: its own id. */
    public static byte[] escrowContext(byte[] rootId) {
        return ReportDataBinding.forCustody("escrow", rootId);
    }

    /** The report_data of a custody record's evidence: the root, its escrow, the owner key and the epoch. */
    public static byte[] recordBinding(byte[] rootId, byte[] sealedRoot, byte[] ownerKey, long epoch) {
        return ReportDataBinding.forCustody("record", rootId, ReportDataBinding.sha256(sealedRoot),
                ReportDataBinding.sha256(ownerKey), counterDigest(epoch));
    }

    private Record escrow(RootSecret r, byte[] ownerKey, long epoch) {
        try {
            byte[] sealed = r.sealTo(ownerKey, escrowContext(r.id()));
            EvidenceMessage own = evidence(recordBinding(r.id(), sealed, ownerKey, epoch));
            return new Record(1, r.idHex(), epoch, new CustodyRecordMessage(r.idHex(), sealed,
                    hex(ReportDataBinding.sha256(ownerKey)), epoch, own));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("key-broker.recovery-key in the policy is not an HPKE public key of the v1 "
                    + "suite; make one with 'sealstream key-broker recovery-key'", e);
        } catch (KeyBrokerException e) {
            throw new IllegalStateException("the key broker cannot attest its escrow: " + e.getMessage(), e);
        }
    }

    /** After a recovery, the escrow's evidence is renewed by this broker, so it names the current build. */
    private void refreshEscrowEvidence(Record record, RootSecret r) throws KeyBrokerException {
        CustodyRecordMessage old = record.recovery();
        byte[] ownerKey = policy.keyBroker().recoveryKey().orElse(null);
        if (ownerKey == null) {
            return; // the policy no longer names an owner key: keep the escrow the owner can still open
        }
        if (!hex(ReportDataBinding.sha256(ownerKey)).equals(old.ownerKeySha256())) {
            writeRecord(escrow(r, ownerKey, record.epoch())); // the owner rotated the recovery key: escrow to the new one
            audit.record("custody.escrow_renewed", "root_id", r.idHex(),
                    "owner_key_sha256", hex(ReportDataBinding.sha256(ownerKey)));
            return;
        }
        EvidenceMessage own = evidence(recordBinding(r.id(), old.sealedRoot(), ownerKey, record.epoch()));
        writeRecord(new Record(1, record.rootId(), record.epoch(), new CustodyRecordMessage(old.rootId(), old.sealedRoot(),
                old.ownerKeySha256(), record.epoch(), own)));
    }

    /**
     * {@code r}, or its next root when the record is one ratchet step ahead (a ratchet interrupted
     * after the record was written, or a peer that granted just before it ratcheted).
     */
    private RootSecret advanceTo(Record record, RootSecret r, String source) {
        if (record.rootId().equals(r.idHex())) {
            return r;
        }
        RootSecret next = r.next();
        r.close();
        if (record.rootId().equals(next.idHex())) {
            return next;
        }
        next.close();
        audit.record("custody.refused", "code", "foreign_root", "source", source.replace(' ', '_'));
        throw new IllegalStateException(source + " holds another root than " + dataDir.resolve(RECORD) + " records ("
                + record.rootId().substring(0, 16) + "…): this data directory is another deployment's. Use the right "
                + "data directory or peer");
    }

    /** The epoch of the ratchet the held root belongs to. */
    public long epoch() {
        return readRecord().map(Record::epoch).orElse(0L);
    }

    /**
     * Moves the ratchet one step: {@code resealUnder} writes the whole state under the next root
     * (into the next epoch's directory), then the record names the next root (re-escrowed to the
     * owner), then the held root is replaced and the previous one destroyed. A crash before the
     * record is written leaves the previous epoch in force; one after, the next.
     *
     * @return the next root, now held
     */
    public RootSecret ratchet(java.util.function.BiConsumer<RootSecret, Long> resealUnder) {
        RootSecret current = root;
        Record record = readRecord().orElseThrow(() -> new IllegalStateException("the custody record is gone"));
        RootSecret next = current.next();
        long epoch = record.epoch() + 1;
        try {
            resealUnder.accept(next, epoch);
            writeNextRecord(record, next, epoch);
        } catch (RuntimeException e) {
            next.close();
            throw e;
        }
        root = next;
        current.close();
        audit.record("custody.ratcheted", "epoch", epoch, "root_id", next.idHex());
        return next;
    }

    private void writeNextRecord(Record record, RootSecret next, long epoch) {
        if (record.recovery() != null) {
            byte[] ownerKey = policy.keyBroker().recoveryKey().orElse(null);
            if (ownerKey == null) {
                throw new IllegalStateException("the policy no longer names the owner's recovery key; the root cannot be "
                        + "escrowed for the next epoch");
            }
            writeRecord(escrow(next, ownerKey, epoch));
        } else {
            writeRecord(new Record(1, next.idHex(), epoch, null));
            if (mode == CustodyMode.DEV) {
                writeDevRoot(next);
            }
        }
    }

    /**
     * The root a replica sharing the directory ratcheted to, derived from the held one, when the
     * record names a later epoch; empty when the held root is current. Not held until
     * {@link #adopt}: the caller loads that epoch's state first. The caller holds the directory lock.
     *
     * @throws IllegalStateException if the record names a root this one does not lead to
     */
    public Optional<RootSecret> ahead() {
        RootSecret r = root;
        Record record = readRecord().orElseThrow(() -> new IllegalStateException("the custody record is gone"));
        if (r == null || record.rootId().equals(r.idHex())) {
            return Optional.empty();
        }
        RootSecret candidate = r.next();
        for (int step = 1; step <= 64; step++) {
            if (record.rootId().equals(candidate.idHex())) {
                return Optional.of(candidate);
            }
            RootSecret further = candidate.next();
            candidate.close();
            candidate = further;
        }
        candidate.close();
        audit.record("custody.refused", "code", "foreign_root", "source", "custody_record");
        throw new IllegalStateException(dataDir.resolve(RECORD) + " names root " + record.rootId().substring(0, 16)
                + "…, which this replica's root does not lead to: it was replaced. Restore it from a replica's volume");
    }

    /** Holds a root {@link #ahead} returned, once its epoch's state loaded; the previous one is destroyed. */
    public void adopt(RootSecret followed) {
        RootSecret previous = root;
        root = followed;
        if (previous != null) {
            previous.close();
        }
        audit.record("custody.root_held", "mode", mode.id(), "how", "followed_ratchet", "epoch", epoch(),
                "root_id", followed.idHex());
    }

    private void writeDevRoot(RootSecret r) {
        Path file = dataDir.resolve(DEV_ROOT);
        Path tmp = dataDir.resolve(DEV_ROOT + ".new");
        byte[] raw = r.exportForDevFile();
        try {
            Files.deleteIfExists(tmp);
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                ch.write(java.nio.ByteBuffer.wrap(raw));
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            SealedKeysetStore.forceDirectory(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the dev root " + file, e);
        } finally {
            java.util.Arrays.fill(raw, (byte) 0);
        }
    }

    private void refuseOrphanKeysets() {
        Path keysets = dataDir.resolve(SealedKeysetStore.KEYSET_DIR);
        if (Files.isDirectory(keysets)) {
            try (var files = Files.walk(keysets)) {
                if (files.anyMatch(p -> p.getFileName().toString().endsWith(".sealed"))) {
                    audit.record("custody.refused", "code", "orphan_keysets");
                    throw new IllegalStateException(keysets + " holds sealed keysets but " + dataDir.resolve(RECORD)
                            + " is missing: they were planted, or the custody record was deleted. This broker will not "
                            + "make a new root over them; restore custody.json or move keysets/ away");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + keysets, e);
            }
        }
    }

    private void hold(RootSecret r, String how) {
        root = r;
        audit.record("custody.root_held", "mode", mode.id(), "how", how, "root_id", r.idHex());
    }

    private EvidenceMessage evidence(byte[] reportData) throws KeyBrokerException {
        try {
            return EvidenceMessage.of(ownEvidence.attest(reportData));
        } catch (AttestationException e) {
            throw new KeyBrokerException(503, "evidence_unavailable", "the key broker could not produce its own "
                    + "evidence (" + e.failure().code() + "); retry, and alert the operator if it persists");
        }
    }

    private Optional<Record> readRecord() {
        Path f = dataDir.resolve(RECORD);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        try {
            Record r = KeyBrokerJson.mapper().readValue(f.toFile(), Record.class);
            if (r.format() != 1 || r.rootId() == null || !r.rootId().matches("[0-9a-f]{64}")) {
                throw new IOException("unknown format");
            }
            return Optional.of(r);
        } catch (IOException e) {
            throw new IllegalStateException(f + " is not a custody record this broker wrote; restore it from a replica's "
                    + "volume", e);
        }
    }

    /**
     * Writes the first custody record, failing if one appeared meanwhile: two replicas started
     * together on an empty directory must not both make a root (link(2) is atomic; the loser stops).
     */
    private void createRecord(Record record, RootSecret r) {
        Path f = dataDir.resolve(RECORD);
        Path tmp = dataDir.resolve(RECORD + "." + r.idHex().substring(0, 16) + ".new");
        try {
            Files.write(tmp, KeyBrokerJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(record));
            try {
                Files.createLink(f, tmp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                r.close();
                throw new IllegalStateException("another key-broker replica made this deployment's root at the same "
                        + "moment (" + f + " appeared); start this replica in peer custody against it", e);
            } catch (UnsupportedOperationException e) {
                Files.move(tmp, f); // no hard links on this file system: not atomic, still refuses an existing file
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + f + "; check free space and permissions", e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // a leftover temporary file holds no secret
            }
        }
    }

    private void writeRecord(Record record) {
        Path f = dataDir.resolve(RECORD);
        try {
            SealedKeysetStore.writeAtomically(f, KeyBrokerJson.mapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(record));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode the custody record", e);
        }
    }

    /** The peer's host and port only: a URL's user part never reaches the audit. */
    private static String peerAddress(String url) {
        try {
            java.net.URI u = java.net.URI.create(url);
            return u.getHost() + ":" + u.getPort();
        } catch (IllegalArgumentException e) {
            return "(not a URL)";
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Zeroes the root. */
    @Override
    public void close() {
        RootSecret r = root;
        root = null;
        if (r != null) {
            r.close();
        }
    }
}
