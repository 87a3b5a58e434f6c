package io.sealstream.keybroker.custody;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.keybroker.api.EvidenceMessage;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the evidence of a key-broker replica, for every custody step (handover both ways, the
 * owner's recovery): genuine under {@code verifiers}, bound to {@code expectedReportData}, and
 * allowed by the policy's {@code key-broker:} and {@code tee:} rules.
 */
public final class ReplicaEvidence {
    private ReplicaEvidence() {
    }

    /**
     * @param now the time for certificates and evidence age; for a custody record, pass the time
     *     only to certificates by leaving {@code checkAge} false
     */
    public static AttestedClaims verify(Map<TeeType, EvidenceVerifier> verifiers, AttestationPolicy policy,
                                        EvidenceMessage message, byte[] expectedReportData, Instant now,
                                        boolean checkAge) throws AttestationException {
        Evidence evidence;
        try {
            evidence = message.toEvidence();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the replica's evidence is unusable: "
                    + e.getMessage());
        }
        EvidenceVerifier verifier = verifiers.get(evidence.tee());
        if (verifier == null) {
            throw new AttestationException(AttestationFailure.TEE_NOT_ALLOWED, "no verifier for "
                    + evidence.tee().id() + " evidence is configured");
        }
        AttestedClaims claims = verifier.verify(evidence, now);
        policy.checkKeyBroker(claims, expectedReportData, checkAge ? Optional.of(now) : Optional.empty());
        return claims;
    }
}
