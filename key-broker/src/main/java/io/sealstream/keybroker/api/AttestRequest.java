package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/attest}: evidence whose report_data is SHA-512(nonce || tee_public_key ||
 * model_digest), the TEE's ephemeral HPKE public key (a Tink public keyset) and the SHA-256 of the
 * model files the worker loaded.
 */
public record AttestRequest(byte[] nonce, EvidenceMessage evidence, byte[] teePublicKey, byte[] modelDigest) {
}
