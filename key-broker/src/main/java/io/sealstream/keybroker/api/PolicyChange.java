package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/policy}: the challenge's nonce, the new policy YAML, and HMAC-SHA256 under the
 * challenge's key over SHA-256 of the YAML's UTF-8 bytes.
 */
public record PolicyChange(byte[] nonce, String policy, byte[] mac) {
}
