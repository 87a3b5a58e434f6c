package io.sealstream.keybroker.api;

/**
 * The answer to a {@link HandoverRequest}: the root sealed to the joiner's TEE key, its public id,
 * and the serving replica's evidence whose report_data binds the custody step
 * {@code handover-grant}, the joiner's nonce, SHA-256 of the sealed root, the policy id and the root id.
 */
public record HandoverGrant(byte[] sealedRoot, String rootId, EvidenceMessage evidence) {
}
