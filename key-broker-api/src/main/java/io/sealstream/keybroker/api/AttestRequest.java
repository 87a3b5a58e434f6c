package io.sealstream.keybroker.api;

import java.util.List;

/**
 * {@code POST /v1/attest}: evidence whose report_data is SHA-512(nonce || tee_public_key ||
 * model_set_digest), the TEE's ephemeral HPKE public key (a Tink public keyset) and the SHA-256
 * digests of the models the worker loaded, one per engine; model_set_digest is
 * {@code ReportDataBinding.modelSetDigest} of them, and every one must be allowed by the policy.
 */
public record AttestRequest(byte[] nonce, EvidenceMessage evidence, byte[] teePublicKey, List<byte[]> modelDigests) {
    /** Most models one worker may serve. */
    public static final int MAX_MODELS = 16;
}
