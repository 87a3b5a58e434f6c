package io.sealstream.keybroker.api;

/**
 * {@code GET /v1/keys/{topic}/public?nonce=}: what a client needs before it sends anything — the
 * topic's public keyset, the policy workers must satisfy, and the key broker's own evidence whose
 * report_data is SHA-512(nonce || SHA-256(keyset) || policy id).
 */
public record PublicTopicKeys(String topic, byte[] keyset, long primaryKeyId, String keysetFingerprint,
                              String policy, String policyId, EvidenceMessage evidence) {
}
