package io.sealstream.keybroker.api;

/** {@code POST /v1/auth}: a single-use nonce for the next attestation or public-key request. */
public record AuthChallenge(byte[] nonce, String expiresAt) {
}
