package io.sealstream.attestation;

/** The kinds of trusted execution environment whose evidence Sealstream verifies. */
public enum TeeType {
    /** AMD SEV-SNP: an ATTESTATION_REPORT signed by a VCEK or VLEK chaining to AMD's ARK. */
    SNP("snp"),
    /** Intel TDX: a v4/v5 quote signed by the QE's attestation key, PCK chain to Intel's SGX Root CA. */
    TDX("tdx"),
    /**
     * An SEV-SNP guest behind Azure's paravisor: the SNP report inside the HCL report read from the
     * vTPM, runtime claims bound by its report_data, and a vTPM quote over PCRs signed by the
     * attestation key those claims name (docs/attestation.md, "Azure confidential VMs").
     */
    AZURE_SNP("azure-snp"),
    /** A TDX guest behind Azure's paravisor: as {@link #AZURE_SNP}, with a TD quote made from the HCL's TDREPORT. */
    AZURE_TDX("azure-tdx");

    private final String id;

    TeeType(String id) {
        this.id = id;
    }

    /**
     * The hardware whose rules apply to the report inside: {@link #SNP} for SNP and Azure SNP,
     * {@link #TDX} for TDX and Azure TDX.
     */
    public TeeType hardware() {
        return this == AZURE_SNP ? SNP : this == AZURE_TDX ? TDX : this;
    }

    /** Whether the evidence comes through Azure's paravisor and vTPM (its workload identity is in PCRs). */
    public boolean azure() {
        return this == AZURE_SNP || this == AZURE_TDX;
    }

    /** The lower-case name used in policies, JSON and on the command line. */
    public String id() {
        return id;
    }

    /** Parses {@link #id()}; fails with the accepted names. */
    public static TeeType fromId(String id) {
        for (TeeType t : values()) {
            if (t.id.equalsIgnoreCase(id)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown TEE type '" + id + "'; expected snp, tdx, azure-snp or azure-tdx");
    }
}
