package io.sealstream.keybroker.custody;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.keybroker.api.CustodyRecordMessage;
import io.sealstream.keybroker.api.CustodyStatus;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.RecoveryOffer;
import io.sealstream.keybroker.client.KeyBrokerClient;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;

/**
 * The owner's side of a recovery after every broker replica was lost ({@code sealstream key-broker
 * recover}). Nothing is sent until, in this order: the broker enforces exactly the pinned policy;
 * its fresh evidence binds the owner's nonce, its TEE key, the policy and the root it waits for,
 * and shows a key-broker measurement the policy allows on a platform it allows; the escrow is for
 * this owner key; the escrow's own evidence shows that a genuine broker made it (a host cannot
 * escrow a root of its own making); and the escrowed root has the id the broker waits for. Then
 * the root is sealed to the broker's TEE key under the nonce.
 */
public final class OwnerRecovery {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<TeeType, EvidenceVerifier> verifiers;
    private final AttestationPolicy pinned;
    private final Clock clock;
    private final long minimumEpoch;

    /** What a finished recovery reports: the root, the epoch of its ratchet, the broker's measurement, its state. */
    public record Outcome(String rootId, long epoch, String brokerMeasurement, CustodyStatus status) {
    }

    /** A refused recovery: {@link #code()} says which check failed; nothing was sent. */
    public static final class RefusedException extends Exception {
        private final String code;

        RefusedException(String code, String message, Throwable cause) {
            super(code + ": " + message, cause);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    public OwnerRecovery(Map<TeeType, EvidenceVerifier> verifiers, AttestationPolicy pinned, Clock clock) {
        this(verifiers, pinned, clock, 0);
    }

    /**
     * As {@link #OwnerRecovery(Map, AttestationPolicy, Clock)}, refusing an escrow of an epoch
     * below {@code minimumEpoch}: the epoch the owner last saw (a host that kept an older escrow
     * and its keysets would otherwise have retired keys served again).
     */
    public OwnerRecovery(Map<TeeType, EvidenceVerifier> verifiers, AttestationPolicy pinned, Clock clock,
                         long minimumEpoch) {
        this.verifiers = Map.copyOf(verifiers);
        this.pinned = pinned;
        this.clock = clock;
        this.minimumEpoch = minimumEpoch;
    }

    /** Runs the recovery against {@code broker} with the owner's recovery key. */
    public Outcome recover(KeyBrokerClient broker, SealingKeyPair ownerKey) throws RefusedException {
        byte[] nonce = new byte[32];
        RANDOM.nextBytes(nonce);
        RecoveryOffer offer;
        try {
            offer = broker.recoveryOffer(nonce);
        } catch (KeyBrokerException e) {
            throw new RefusedException(e.code(), "the broker at " + broker.baseUrl() + " made no recovery offer: "
                    + e.getMessage(), e);
        }
        if (!pinned.id().equals(offer.policyId())) {
            throw new RefusedException("policy_mismatch", "the broker enforces policy " + offer.policyId()
                    + ", not the pinned " + pinned.id() + "; recover only a broker that runs your policy", null);
        }
        CustodyRecordMessage record = offer.record();
        if (record == null || record.rootId() == null || !record.rootId().matches("[0-9a-f]{64}")
                || record.sealedRoot() == null || offer.teePublicKey() == null) {
            throw new RefusedException("bad_offer", "the offer lacks the escrow record or the broker's TEE key", null);
        }
        byte[] rootId = ReportDataBinding.sha256Hex(record.rootId());
        byte[] policyId = ReportDataBinding.sha256Hex(pinned.id());
        AttestedClaims claims;
        try {
            claims = ReplicaEvidence.verify(verifiers, pinned, offer.evidence(), ReportDataBinding.forCustody(
                    "recovery-offer", nonce, ReportDataBinding.sha256(offer.teePublicKey()), policyId, rootId),
                    clock.instant(), true);
        } catch (AttestationException e) {
            throw new RefusedException(e.failure().code(), "the broker asking for the root is not trusted: "
                    + e.getMessage() + "; it gets nothing", e);
        }
        byte[] ownerPublic = ownerKey.publicKey();
        if (!HexFormat.of().formatHex(ReportDataBinding.sha256(ownerPublic)).equals(record.ownerKeySha256())) {
            throw new RefusedException("other_owner_key", "the escrow is sealed to recovery key "
                    + record.ownerKeySha256() + ", not to this one; use the key named in the policy the root was made under",
                    null);
        }
        try {
            ReplicaEvidence.verify(verifiers, pinned, record.evidence(),
                    RootCustody.recordBinding(rootId, record.sealedRoot(), ownerPublic, record.epoch()), clock.instant(),
                    false);
        } catch (AttestationException e) {
            throw new RefusedException("untrusted_escrow", "the escrow was not made by a trusted key broker ("
                    + e.getMessage() + "): the host may have planted a root of its own; do not recover it", e);
        }
        if (record.epoch() < minimumEpoch) {
            throw new RefusedException("rolled_back", "the escrow is of epoch " + record.epoch() + ", older than epoch "
                    + minimumEpoch + " seen before: the host kept an older copy of the data directory; restore the "
                    + "current one", null);
        }
        try (RootSecret root = RootSecret.openFrom(ownerKey, record.sealedRoot(), RootCustody.escrowContext(rootId))) {
            if (!root.idHex().equals(record.rootId())) {
                throw new RefusedException("untrusted_escrow", "the escrowed root does not have the id its record names",
                        null);
            }
            byte[] sealed = root.sealTo(offer.teePublicKey(), RootCustody.recoveryContext(nonce));
            CustodyStatus status = broker.recover(new RecoveryDelivery(nonce, sealed));
            return new Outcome(root.idHex(), record.epoch(), claims.measurementHex(), status);
        } catch (GeneralSecurityException e) {
            throw new RefusedException("bad_escrow", "the escrow does not open with this recovery key, or the broker's "
                    + "TEE key is unusable: " + e.getMessage(), e);
        } catch (KeyBrokerException e) {
            throw new RefusedException(e.code(), "the broker refused the root: " + e.getMessage(), e);
        }
    }
}
