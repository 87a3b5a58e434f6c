package io.sealstream.attestation.nvidia;

import java.util.List;

/**
 * A GPU's evidence as it travels: the attestation report (SPDM request and signed response) and
 * its certificate chain, DER, leaf first, NVIDIA's Device Identity CA last. Arrays are copied in
 * and out.
 */
public record GpuEvidence(byte[] report, List<byte[]> certificates) {
    public GpuEvidence {
        report = report.clone();
        certificates = certificates.stream().map(byte[]::clone).toList();
    }

    @Override
    public byte[] report() {
        return report.clone();
    }

    @Override
    public List<byte[]> certificates() {
        return certificates.stream().map(byte[]::clone).toList();
    }
}
