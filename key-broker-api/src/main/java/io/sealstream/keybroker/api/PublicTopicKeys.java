package io.sealstream.keybroker.api;

/**
 * {@code GET /v1/keys/{topic}/public?nonce=}: what a client needs before it sends anything — the
 * topic's public keyset, the policy workers must satisfy, and the key broker's own evidence whose
 * report_data is SHA-512(nonce || SHA-256(keyset) || policy id || SHA-256(topic) ||
 * SHA-256(custody) || SHA-256(logKey)), {@code custody} being how the broker holds its root
 * ({@code dev} is refused by strict clients) and {@code logKey} the public key (X.509) its
 * transparency log signs heads with. {@code primaryRotatesAt} (ISO-8601)
 * says when the primary key is due to rotate, so clients renew their sessions then; it is a
 * scheduling hint outside the evidence binding (a wrong value only changes how often a client
 * renews; the keys themselves are bound). {@code tdxCollateral}, for a broker on TDX, is Intel's
 * collateral for its platform (QuoteCollateralV3 JSON): signed by Intel, so it needs no trust in the
 * broker, and with it a client can judge the broker's TCB status; null elsewhere.
 * {@code policyLogIndex} and {@code measurementLogIndex} say where the transparency log holds the
 * policy and this broker's measurement: pointers only, since the client proves each entry's
 * inclusion in a head it verified (null while the broker has not logged them).
 */
public record PublicTopicKeys(String topic, byte[] keyset, long primaryKeyId, String keysetFingerprint,
                              String policy, String policyId, String custody, EvidenceMessage evidence, String primaryRotatesAt,
                              String tdxCollateral, byte[] logKey, Long policyLogIndex, Long measurementLogIndex) {
    /** Larger than any real collateral (about 20 KiB); a client refuses more. */
    public static final int MAX_COLLATERAL = 128 * 1024;
}
