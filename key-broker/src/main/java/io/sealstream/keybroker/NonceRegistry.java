package io.sealstream.keybroker;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.Mac;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.mac.HmacParameters;
import com.google.crypto.tink.mac.MacConfig;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Single-use nonces with a time-to-live that cost the broker nothing to issue: a nonce is 8
 * random bytes, its expiry (8 bytes) and a 16-byte HMAC-SHA256 over both under a key made at
 * start-up, so {@code /v1/auth} keeps no state however often it is called. Only a nonce named by
 * an attestation whose evidence verified is remembered, until it expires, so it is used once;
 * that set grows only as fast as genuine, rate-limited attestations.
 */
final class NonceRegistry {
    static final int NONCE_LENGTH = 32;
    /** Consumed nonces remembered at most; past this, attestations are refused as busy until some expire. */
    static final int MAX_REMEMBERED = 100_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Mac mac;
    private final Map<String, Long> consumed = new ConcurrentHashMap<>();
    private final Duration ttl;
    private final Clock clock;

    NonceRegistry(Duration ttl, Clock clock) {
        try {
            MacConfig.register();
            this.mac = KeysetHandle.generateNew(HmacParameters.builder().setKeySizeBytes(32).setTagSizeBytes(16)
                            .setHashType(HmacParameters.HashType.SHA256).setVariant(HmacParameters.Variant.NO_PREFIX).build())
                    .getPrimitive(RegistryConfiguration.get(), Mac.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not create the nonce MAC key", e);
        }
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A fresh nonce and when it expires. */
    Issued issue() {
        Instant expires = clock.instant().plus(ttl);
        ByteBuffer body = ByteBuffer.allocate(16);
        byte[] random = new byte[8];
        RANDOM.nextBytes(random);
        body.put(random).putLong(expires.toEpochMilli());
        try {
            byte[] tag = mac.computeMac(body.array());
            return new Issued(ByteBuffer.allocate(NONCE_LENGTH).put(body.array()).put(tag).array(), expires);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("computing a nonce MAC failed", e);
        }
    }

    /** The outcome of presenting a nonce. */
    enum Use { FRESH, INVALID, BUSY }

    /** {@link Use#FRESH} if this broker issued {@code nonce}, it has not expired and no attestation used it. */
    Use check(byte[] nonce) {
        long expires = expiryIfGenuine(nonce);
        if (expires < 0 || clock.millis() >= expires) {
            return Use.INVALID;
        }
        return consumed.containsKey(key(nonce)) ? Use.INVALID : Use.FRESH;
    }

    /**
     * Remembers {@code nonce} as used, until it expires: {@link Use#FRESH} the first time only.
     * Called once the attestation that names it verified.
     */
    Use markUsed(byte[] nonce) {
        long expires = expiryIfGenuine(nonce);
        long now = clock.millis();
        if (expires < 0 || now >= expires) {
            return Use.INVALID;
        }
        if (consumed.size() >= MAX_REMEMBERED) {
            prune(now);
            if (consumed.size() >= MAX_REMEMBERED) {
                return Use.BUSY;
            }
        }
        return consumed.putIfAbsent(key(nonce), expires) == null ? Use.FRESH : Use.INVALID;
    }

    /** The expiry of a nonce this broker made, or -1 for anything else. */
    private long expiryIfGenuine(byte[] nonce) {
        if (nonce == null || nonce.length != NONCE_LENGTH) {
            return -1;
        }
        byte[] body = java.util.Arrays.copyOf(nonce, 16);
        try {
            mac.verifyMac(java.util.Arrays.copyOfRange(nonce, 16, NONCE_LENGTH), body);
        } catch (GeneralSecurityException e) {
            return -1;
        }
        return ByteBuffer.wrap(body, 8, 8).getLong();
    }

    private static String key(byte[] nonce) {
        return Base64.getEncoder().encodeToString(nonce);
    }

    private void prune(long now) {
        for (Iterator<Long> it = consumed.values().iterator(); it.hasNext(); ) {
            if (it.next() <= now) {
                it.remove();
            }
        }
    }

    record Issued(byte[] nonce, Instant expiresAt) {
    }
}
