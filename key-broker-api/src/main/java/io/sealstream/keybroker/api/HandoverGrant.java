package io.sealstream.keybroker.api;

/**
 * The answer to a {@link HandoverRequest}: the root sealed to the joiner's TEE key, its public id,
 * the keyset state counter the serving replica holds (the joiner refuses an older directory), and
 * the serving replica's evidence whose report_data binds the custody step {@code handover-grant},
 * the joiner's nonce, SHA-256 of the sealed root, the policy id, the root id and SHA-256 of the
 * counter as 8 big-endian bytes.
 */
public record HandoverGrant(byte[] sealedRoot, String rootId, long stateVersion, EvidenceMessage evidence) {
}
