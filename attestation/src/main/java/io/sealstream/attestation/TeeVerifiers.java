package io.sealstream.attestation;

import io.sealstream.attestation.azure.AzureVerifier;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;

/**
 * One verifier per TEE type, chosen by the evidence's type: what a party that accepts more than
 * one kind of TEE (the key broker, a client checking the broker) verifies with.
 */
public final class TeeVerifiers implements EvidenceVerifier {
    private final Map<TeeType, EvidenceVerifier> byTee;

    private TeeVerifiers(Map<TeeType, EvidenceVerifier> byTee) {
        this.byTee = Map.copyOf(byTee);
    }

    /** Exactly these verifiers; evidence of any other type is refused. */
    public static TeeVerifiers of(Map<TeeType, EvidenceVerifier> byTee) {
        return new TeeVerifiers(byTee);
    }

    /**
     * Bare SEV-SNP and TDX with {@code snp} and {@code tdx}, and Azure confidential VMs of both with
     * {@code azure} (which verifies the hardware reports inside with its own SNP and TDX verifiers).
     */
    public static TeeVerifiers of(SnpVerifier snp, TdxVerifier tdx, AzureVerifier azure) {
        Map<TeeType, EvidenceVerifier> m = new EnumMap<>(TeeType.class);
        m.put(TeeType.SNP, snp);
        m.put(TeeType.TDX, tdx);
        m.put(TeeType.AZURE_SNP, azure);
        m.put(TeeType.AZURE_TDX, azure);
        return new TeeVerifiers(m);
    }

    /**
     * Every TEE type against the vendors' pinned roots only (AMD, Intel; Azure's hardware reports
     * the same way), without collateral: what a client checking a key broker starts from.
     */
    public static TeeVerifiers withVendorRoots() {
        SnpVerifier snp = SnpVerifier.withAmdRoots();
        TdxVerifier tdx = TdxVerifier.withIntelRoot();
        return of(snp, tdx, AzureVerifier.of(snp, tdx));
    }

    /** The verifiers by TEE type. */
    public Map<TeeType, EvidenceVerifier> asMap() {
        return byTee;
    }

    @Override
    public AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException {
        EvidenceVerifier v = byTee.get(evidence.tee());
        if (v == null) {
            throw new AttestationException(AttestationFailure.TEE_NOT_ALLOWED, "no verifier for " + evidence.tee().id()
                    + " evidence is configured here");
        }
        return v.verify(evidence, at);
    }
}
