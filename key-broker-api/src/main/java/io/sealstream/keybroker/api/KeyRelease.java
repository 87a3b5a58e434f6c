package io.sealstream.keybroker.api;

/** {@code GET /v1/keys/{topic}}: the topic's private keyset, HPKE-encrypted to the attested TEE key. */
public record KeyRelease(String topic, byte[] releasedKeyset, long primaryKeyId, String leaseExpiresAt) {
}
