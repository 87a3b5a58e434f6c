package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/policy/challenge}: a fresh 32-byte nonce and a 32-byte key sealed to the owner's
 * recovery key (HPKE, context {@code policy-challenge ‖ nonce}); only the owner can open it and
 * MAC a new policy with it. Single use, 2 minutes.
 */
public record PolicyChallenge(byte[] nonce, byte[] sealedKey, String expiresAt) {
}
