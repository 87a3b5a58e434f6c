package io.sealstream.keybroker.api;

/** Answer to a successful attestation: a signed lease token for key requests, until {@code expiresAt}. */
public record LeaseGrant(String token, String expiresAt, String policyId) {
}
