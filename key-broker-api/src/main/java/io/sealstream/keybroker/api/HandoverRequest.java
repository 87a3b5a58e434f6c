package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/custody/handover}, from a replica that wants the root: a nonce of the serving
 * replica ({@code POST /v1/auth}), the joiner's own nonce for the answer, its TEE public key, and
 * its evidence whose report_data binds the custody step {@code handover-request}, the nonce,
 * SHA-256 of the key and the policy id.
 */
public record HandoverRequest(byte[] nonce, byte[] joinerNonce, EvidenceMessage evidence, byte[] teePublicKey) {
}
