package io.sealstream.attestation;

/** The kinds of trusted execution environment whose evidence Sealstream verifies. */
public enum TeeType {
    /** AMD SEV-SNP: an ATTESTATION_REPORT signed by a VCEK or VLEK chaining to AMD's ARK. */
    SNP("snp"),
    /** Intel TDX: a v4/v5 quote signed by the QE's attestation key, PCK chain to Intel's SGX Root CA. */
    TDX("tdx");

    private final String id;

    TeeType(String id) {
        this.id = id;
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
        throw new IllegalArgumentException("unknown TEE type '" + id + "'; expected snp or tdx");
    }
}
