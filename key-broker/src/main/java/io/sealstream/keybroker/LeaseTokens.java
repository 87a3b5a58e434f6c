package io.sealstream.keybroker;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.mac.MacConfig;
import com.google.crypto.tink.mac.PredefinedMacParameters;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Short-lived lease tokens: {@code base64url(v1|lease id|expiry millis|policy id).base64url(HMAC)}
 * under a MAC key made at start-up (a restart invalidates every lease; workers attest again). The
 * lease itself, with the attested TEE key, stays in this broker's memory.
 */
final class LeaseTokens {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    private final Mac mac;
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    /** Authentic tokens presented after their lease expired: a worker that did not renew in time. */
    private final java.util.concurrent.atomic.AtomicLong expiredPresented = new java.util.concurrent.atomic.AtomicLong();

    LeaseTokens(Duration ttl, Clock clock) {
        try {
            MacConfig.register();
            this.mac = KeysetHandle.generateNew(PredefinedMacParameters.HMAC_SHA256_256BITTAG)
                    .getPrimitive(RegistryConfiguration.get(), Mac.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not create the lease MAC key", e);
        }
        this.ttl = ttl;
        this.clock = clock;
    }

    /** Issues a token for a TEE that attested under {@code policyId}. */
    Issued issue(byte[] teePublicKey, String policyId, String tee, String measurement) {
        prune();
        String id = UUID.randomUUID().toString();
        Instant expires = clock.instant().plus(ttl);
        String payload = "v1|" + id + "|" + expires.toEpochMilli() + "|" + policyId;
        try {
            byte[] tag = mac.computeMac(payload.getBytes(StandardCharsets.UTF_8));
            leases.put(id, new Lease(id, teePublicKey.clone(), expires, policyId, tee, measurement));
            return new Issued(B64.encodeToString(payload.getBytes(StandardCharsets.UTF_8)) + "." + B64.encodeToString(tag),
                    leases.get(id));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("computing a lease MAC failed", e);
        }
    }

    /** The lease of a valid, unexpired token issued under {@code currentPolicyId}; empty otherwise. */
    Optional<Lease> verify(String token, String currentPolicyId) {
        if (token == null) {
            return Optional.empty();
        }
        int dot = token.indexOf('.');
        if (dot < 0) {
            return Optional.empty();
        }
        try {
            byte[] payload = B64D.decode(token.substring(0, dot));
            mac.verifyMac(B64D.decode(token.substring(dot + 1)), payload);
            String[] parts = new String(payload, StandardCharsets.UTF_8).split("\\|");
            if (parts.length != 4 || !"v1".equals(parts[0]) || !parts[3].equals(currentPolicyId)) {
                return Optional.empty();
            }
            if (!Instant.ofEpochMilli(Long.parseLong(parts[2])).isAfter(clock.instant())) {
                expiredPresented.incrementAndGet();
                return Optional.empty();
            }
            return Optional.ofNullable(leases.get(parts[1]));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Ends a lease at once (one issued for an attestation that then failed); its token verifies no more. */
    void revoke(String id) {
        leases.remove(id);
    }

    /** How many authentic tokens were presented after their lease expired. */
    long expiredPresented() {
        return expiredPresented.get();
    }

    private void prune() {
        Instant now = clock.instant();
        for (Iterator<Lease> it = leases.values().iterator(); it.hasNext(); ) {
            if (!it.next().expiresAt().isAfter(now)) {
                it.remove();
            }
        }
    }

    /** An attested TEE's right to fetch keys until {@code expiresAt}. */
    record Lease(String id, byte[] teePublicKey, Instant expiresAt, String policyId, String tee, String measurement) {
    }

    record Issued(String token, Lease lease) {
    }
}
