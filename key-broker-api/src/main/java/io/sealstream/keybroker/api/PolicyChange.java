package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/policy}: the challenge's nonce, the new policy YAML, and HMAC-SHA256 under the
 * challenge's key over the custody binding {@code policy-change ‖ nonce ‖ policy id in force ‖
 * SHA-256(YAML)}.
 */
public record PolicyChange(byte[] nonce, String policy, byte[] mac) {
}
