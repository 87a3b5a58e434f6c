package io.sealstream.keybroker.api;

/**
 * {@code GET /v1/custody/recovery?nonce=}, answered only while the broker awaits recovery: its
 * escrow record, a fresh TEE public key to seal the root to, the policy it enforces, and its
 * evidence whose report_data binds the custody step {@code recovery-offer}, the owner's nonce,
 * SHA-256 of the TEE key, the policy id and the root id it waits for.
 */
public record RecoveryOffer(CustodyRecordMessage record, byte[] teePublicKey, String policy, String policyId,
                            EvidenceMessage evidence) {
}
