package io.sealstream.keybroker.api;

/**
 * {@code GET /v1/log/key}: the public key (X.509 SubjectPublicKeyInfo, ECDSA P-256) the log signs
 * tree heads with, for the operator who writes it into connection files. A client never takes it
 * from here: it pins the key it was given.
 */
public record LogKey(byte[] publicKey) {
}
