package io.sealstream.keybroker.api;

/**
 * The escrow a broker in {@code recovery} custody keeps beside its sealed keysets: the root id,
 * the root sealed to the owner's recovery key, SHA-256 of that key, the epoch of the root's
 * ratchet, and evidence of the broker that made the escrow, whose report_data binds the custody
 * step {@code record}, the root id, SHA-256 of the sealed root, SHA-256 of the owner key and
 * SHA-256 of the epoch as 8 big-endian bytes (so an older escrow cannot pass for a later epoch). Not secret; the owner's tool checks
 * the evidence before it trusts the root inside (a host cannot escrow a root of its own making).
 */
public record CustodyRecordMessage(String rootId, byte[] sealedRoot, String ownerKeySha256, long epoch,
                                   EvidenceMessage evidence) {
}
