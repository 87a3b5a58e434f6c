package io.sealstream.attestation;

/**
 * Why evidence was not accepted. Each reason is distinct so that a denial names exactly one
 * cause; {@link #code()} is safe for HTTP bodies, audit events and metric labels.
 */
public enum AttestationFailure {
    // the evidence itself
    MALFORMED_EVIDENCE("malformed_evidence", "the report or quote is truncated, oversized or has an unknown layout"),
    UNSUPPORTED_VERSION("unsupported_version", "the report or quote version is not one this verifier knows"),
    BAD_SIGNATURE("bad_signature", "the report or quote signature does not verify with its signing key"),
    BAD_CERTIFICATE_CHAIN("bad_certificate_chain", "a certificate in the chain is not signed by its issuer, or is missing"),
    UNKNOWN_ROOT("unknown_root", "the chain ends in a root that is not pinned (AMD ARK, Intel SGX Root CA)"),
    CERTIFICATE_EXPIRED("certificate_expired", "a certificate in the chain is not valid at the verification time"),
    CERTIFICATE_REVOKED("certificate_revoked", "a certificate in the chain is on a supplied CRL"),
    TCB_MISMATCH("tcb_mismatch", "the evidence differs from its signing certificate or collateral: TCB, chip id, "
            + "FMSPC, TDX module or Quoting Enclave identity"),
    BAD_COLLATERAL("bad_collateral", "TCB Info, QE Identity or a CRL is malformed or not signed by its issuer"),
    COLLATERAL_EXPIRED("collateral_expired", "TCB Info, QE Identity or a CRL is outside its validity window at the "
            + "verification time"),
    TCB_LEVEL_UNSUPPORTED("tcb_level_unsupported", "the platform's TCB is older than every TCB level the collateral "
            + "lists"),
    RUNTIME_CLAIMS_UNBOUND("runtime_claims_unbound", "Azure: the hardware report's report_data is not SHA-256 of the "
            + "runtime claims, or the TD quote does not carry the HCL report's TDREPORT"),
    VTPM_MISMATCH("vtpm_mismatch", "Azure: the vTPM quote is not signed by the attestation key the runtime claims name, "
            + "does not carry user-data as its qualifying data, or its PCR values do not hash to its PCR digest"),
    // the policy
    TEE_NOT_ALLOWED("tee_not_allowed", "the policy does not accept this TEE type"),
    SIMULATED_NOT_ALLOWED("simulated_not_allowed", "simulated evidence, and the policy does not say allow-simulated: true"),
    DEBUG_ENABLED("debug_enabled", "the guest policy or TD attributes allow debugging"),
    MIGRATION_AGENT_ENABLED("migration_agent_enabled", "the guest policy allows a migration agent"),
    VMPL_NOT_ALLOWED("vmpl_not_allowed", "the report was asked for at a less privileged VMPL than the policy's maximum"),
    SMT_NOT_ALLOWED("smt_not_allowed", "the guest policy allows SMT and the policy does not"),
    TD_ATTRIBUTES_NOT_ALLOWED("td_attributes_not_allowed", "the TD's attributes leave it open to the host: "
            + "SEPT_VE_DISABLE is not set and the policy does not say allow-sept-ve"),
    VM_CONFIGURATION_NOT_ALLOWED("vm_configuration_not_allowed", "an Azure VM's configuration (secure boot, console, "
            + "...) is not what the policy requires"),
    TCB_TOO_LOW("tcb_too_low", "a TCB component is below the policy's minimum"),
    TCB_STATUS_NOT_ACCEPTED("tcb_status_not_accepted", "the platform's TCB status is not among those the policy accepts"),
    UNKNOWN_MEASUREMENT("unknown_measurement", "the launch measurement is not in the policy's allow-list"),
    MODEL_NOT_ALLOWED("model_not_allowed", "the model digest is not in the policy's allow-list"),
    REPORT_DATA_MISMATCH("report_data_mismatch", "report_data does not bind the nonce, public key and model digest"),
    STALE_NONCE("stale_nonce", "the nonce is unknown, expired or already used"),
    GPU_NOT_ATTESTED("gpu_not_attested", "the policy requires attested GPUs and the worker sent no GPU evidence"),
    GPU_NOT_ALLOWED("gpu_not_allowed", "a GPU's architecture, driver or VBIOS version is not what the policy allows"),
    EVIDENCE_TOO_OLD("evidence_too_old", "the evidence is older than the policy's maximum evidence age");

    private final String code;
    private final String meaning;

    AttestationFailure(String code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public String code() {
        return code;
    }

    /** What the code means, in words. */
    public String meaning() {
        return meaning;
    }
}
