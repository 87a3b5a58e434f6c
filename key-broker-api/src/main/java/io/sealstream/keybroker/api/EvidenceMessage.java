package io.sealstream.keybroker.api;

import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import java.util.List;

/** Evidence on the wire: TEE type, raw report or quote, DER certificates leaf first (base64 in JSON). */
public record EvidenceMessage(String tee, byte[] report, List<byte[]> certificates) {

    public static EvidenceMessage of(Evidence evidence) {
        return new EvidenceMessage(evidence.tee().id(), evidence.report(), evidence.certificates());
    }

    /** Back to {@link Evidence}; fails on an unknown TEE type or missing fields. */
    public Evidence toEvidence() {
        if (tee == null || report == null) {
            throw new IllegalArgumentException("evidence needs 'tee' and 'report'");
        }
        return new Evidence(TeeType.fromId(tee), report, certificates == null ? List.of() : certificates);
    }
}
