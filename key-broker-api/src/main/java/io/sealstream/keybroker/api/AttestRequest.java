package io.sealstream.keybroker.api;

import io.sealstream.attestation.nvidia.GpuEvidence;
import java.util.List;

/**
 * {@code POST /v1/attest}: evidence whose report_data is SHA-512(nonce || tee_public_key ||
 * model_set_digest) (SEV-SNP and TDX evidence may carry it as text, as a Kata pod's attestation
 * agent writes it: {@code ReportDataBinding.textReportData}), the TEE's ephemeral HPKE public key (a Tink public keyset) and the SHA-256
 * digests of the models the worker loaded, one per engine; model_set_digest is
 * {@code ReportDataBinding.modelSetDigest} of them, and every one must be allowed by the policy.
 * {@code gpuEvidence} holds the attestation report and certificate chain of each GPU the worker
 * uses, asked for with {@code ReportDataBinding.forGpu} of that binding (never its text) as the SPDM nonce;
 * empty (or absent) when it uses none. {@code servedModels} names the models the worker serves,
 * by model name, each with the SHA-256 (hex) of one of {@code modelDigests}; the key broker logs
 * them with the lease, so clients can list the models attested workers serve. The names are the
 * worker's word: the evidence binds the digests, not the names.
 */
public record AttestRequest(byte[] nonce, EvidenceMessage evidence, byte[] teePublicKey, List<byte[]> modelDigests,
                            List<GpuEvidence> gpuEvidence, java.util.Map<String, String> servedModels) {
    /** Most models one worker may serve. */
    public static final int MAX_MODELS = 16;
    /** Most GPUs one worker may present (an 8-GPU system). */
    public static final int MAX_GPUS = 8;

    /** Most model names one worker may declare. */
    public static final int MAX_SERVED_NAMES = 64;

    /** A request from a worker without GPUs that names no models. */
    public AttestRequest(byte[] nonce, EvidenceMessage evidence, byte[] teePublicKey, List<byte[]> modelDigests) {
        this(nonce, evidence, teePublicKey, modelDigests, List.of(), java.util.Map.of());
    }

    /** A request that names no models (a worker older than named models). */
    public AttestRequest(byte[] nonce, EvidenceMessage evidence, byte[] teePublicKey, List<byte[]> modelDigests,
                         List<GpuEvidence> gpuEvidence) {
        this(nonce, evidence, teePublicKey, modelDigests, gpuEvidence, java.util.Map.of());
    }

    public AttestRequest {
        gpuEvidence = gpuEvidence == null ? List.of() : gpuEvidence;
        servedModels = servedModels == null ? java.util.Map.of() : servedModels;
    }
}
