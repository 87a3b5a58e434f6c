package io.sealstream.attestation;

import java.util.Base64;
import java.util.List;
import java.util.Objects;

/**
 * Evidence as a TEE produced it: the raw report or quote, plus the certificates that came with it
 * (for SNP the VCEK/VLEK and optionally ASK and ARK, DER-encoded, leaf first; for TDX they live
 * inside the quote and this list is empty). Immutable; arrays are copied in and out.
 */
public final class Evidence {
    private final TeeType tee;
    private final byte[] report;
    private final List<byte[]> certificates;

    public Evidence(TeeType tee, byte[] report, List<byte[]> certificates) {
        this.tee = Objects.requireNonNull(tee, "tee");
        this.report = Objects.requireNonNull(report, "report").clone();
        this.certificates = certificates.stream().map(byte[]::clone).toList();
    }

    public TeeType tee() {
        return tee;
    }

    /** A copy of the raw report or quote bytes. */
    public byte[] report() {
        return report.clone();
    }

    /** Copies of the DER certificates, leaf first. */
    public List<byte[]> certificates() {
        return certificates.stream().map(byte[]::clone).toList();
    }

    @Override
    public String toString() {
        return "Evidence[tee=" + tee.id() + ", reportBytes=" + report.length + ", certificates=" + certificates.size()
                + ", reportSha256Prefix=" + Base64.getEncoder().encodeToString(
                        java.util.Arrays.copyOf(sha256(report), 6)) + "]";
    }

    private static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
