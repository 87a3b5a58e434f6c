package io.sealstream.keybroker.api;

/**
 * {@code POST /v1/policy/challenge}: a fresh 32-byte nonce, a 32-byte key sealed to the owner's
 * recovery key (HPKE, context {@code policy-challenge ‖ nonce}), and the id of the policy in force.
 * Only the owner can open the key; the MAC binds the policy in force, so a challenge relayed from
 * another deployment is useless. Single use, 2 minutes.
 */
public record PolicyChallenge(byte[] nonce, byte[] sealedKey, String policyId, String expiresAt) {
}
