package io.sealstream.keybroker;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Single-use nonces with a time-to-live: a nonce is consumed by the first attestation that names it. */
final class NonceRegistry {
    static final int NONCE_LENGTH = 32;
    private static final int MAX_OUTSTANDING = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Map<String, Instant> outstanding = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final Clock clock;

    NonceRegistry(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A fresh nonce and when it expires. */
    Issued issue() {
        prune();
        if (outstanding.size() >= MAX_OUTSTANDING) {
            throw new IllegalStateException("too many outstanding nonces");
        }
        byte[] nonce = new byte[NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        Instant expires = clock.instant().plus(ttl);
        outstanding.put(key(nonce), expires);
        return new Issued(nonce, expires);
    }

    /** True exactly once per issued, unexpired nonce. */
    boolean consume(byte[] nonce) {
        if (nonce == null || nonce.length != NONCE_LENGTH) {
            return false;
        }
        Instant expires = outstanding.remove(key(nonce));
        return expires != null && clock.instant().isBefore(expires);
    }

    private void prune() {
        Instant now = clock.instant();
        for (Iterator<Instant> it = outstanding.values().iterator(); it.hasNext(); ) {
            if (!it.next().isAfter(now)) {
                it.remove();
            }
        }
    }

    private static String key(byte[] nonce) {
        return Base64.getEncoder().encodeToString(nonce);
    }

    record Issued(byte[] nonce, Instant expiresAt) {
    }
}
