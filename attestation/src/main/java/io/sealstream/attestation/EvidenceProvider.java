package io.sealstream.attestation;

/**
 * Produces evidence from the TEE this process runs in, with the given 64-byte report_data: the
 * simulated SNP TEE in the dev stack, configfs-tsm on SEV-SNP and TDX guests.
 */
public interface EvidenceProvider {
    /** The TEE type of the evidence this provider makes. */
    TeeType tee();

    /** Evidence whose report_data is {@code reportData} (exactly {@value ReportDataBinding#LENGTH} bytes). */
    Evidence attest(byte[] reportData) throws AttestationException;
}
