package io.sealstream.keybroker.api;

/**
 * The escrow a broker in {@code recovery} custody keeps beside its sealed keysets: the root id,
 * the root sealed to the owner's recovery key, SHA-256 of that key, and evidence of the broker
 * that made the escrow, whose report_data binds the custody step {@code record}, the root id,
 * SHA-256 of the sealed root and SHA-256 of the owner key. Not secret; the owner's tool checks
 * the evidence before it trusts the root inside (a host cannot escrow a root of its own making).
 */
public record CustodyRecordMessage(String rootId, byte[] sealedRoot, String ownerKeySha256, EvidenceMessage evidence) {
}
