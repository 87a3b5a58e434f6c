package io.sealstream.keybroker.api;

/** Answer to a successful attestation: a signed lease token for key requests, until {@code expiresAt}. */
public record LeaseGrant(String token, String expiresAt, String policyId) {
    /**
     * The expiry written inside {@code token} ({@code base64url(v1|id|expiry-millis|policy).tag}).
     * A worker trusts it only once a release has opened under that token (the release binds the
     * token), unlike {@link #expiresAt()}, which travels beside it unauthenticated.
     *
     * @throws IllegalArgumentException if the token is not of that shape
     */
    public static java.time.Instant expiryInToken(String token) {
        try {
            String payload = new String(java.util.Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
                    java.nio.charset.StandardCharsets.UTF_8);
            String[] parts = payload.split("\\|");
            if (parts.length != 4 || !parts[0].equals("v1")) {
                throw new IllegalArgumentException("not a v1 lease token");
            }
            return java.time.Instant.ofEpochMilli(Long.parseLong(parts[2]));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the lease token is malformed: " + e.getClass().getSimpleName(), e);
        }
    }
}
