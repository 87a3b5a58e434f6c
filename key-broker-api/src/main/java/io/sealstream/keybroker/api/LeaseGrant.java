package io.sealstream.keybroker.api;

/**
 * Answer to a successful attestation: a signed lease token for key requests, until
 * {@code expiresAt}; the TEE type and measurement the broker verified, and where its transparency
 * log holds the lease ({@code logIndex}). The worker puts these in every response's provenance;
 * they travel beside the token unauthenticated, and a client checks them against the log entry.
 */
public record LeaseGrant(String token, String expiresAt, String policyId, String tee, String measurement, Long logIndex) {

    /**
     * The lease id written inside {@code token}; like {@link #expiryInToken}, trusted once a
     * release opened under the token.
     *
     * @throws IllegalArgumentException if the token is not of that shape
     */
    public static String idInToken(String token) {
        return tokenParts(token)[1];
    }

    private static String[] tokenParts(String token) {
        try {
            String payload = new String(java.util.Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.'))),
                    java.nio.charset.StandardCharsets.UTF_8);
            String[] parts = payload.split("\\|");
            if (parts.length != 4 || !parts[0].equals("v1")) {
                throw new IllegalArgumentException("not a v1 lease token");
            }
            return parts;
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the lease token is malformed: " + e.getClass().getSimpleName(), e);
        }
    }

    /**
     * The expiry written inside {@code token} ({@code base64url(v1|id|expiry-millis|policy).tag}).
     * A worker trusts it only once a release has opened under that token (the release binds the
     * token), unlike {@link #expiresAt()}, which travels beside it unauthenticated.
     *
     * @throws IllegalArgumentException if the token is not of that shape
     */
    public static java.time.Instant expiryInToken(String token) {
        String[] parts = tokenParts(token);
        try {
            return java.time.Instant.ofEpochMilli(Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the lease token's expiry is not a number", e);
        }
    }
}
