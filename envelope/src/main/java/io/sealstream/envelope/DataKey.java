package io.sealstream.envelope;

import java.security.SecureRandom;
import java.util.Arrays;

/**
 * A 256-bit session data-encryption key. It never leaves this package, is never serialized
 * unencrypted, and is zeroed by {@link #destroy()}; {@code toString()} shows no key bytes.
 */
final class DataKey {
    static final int LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] bytes;
    private volatile boolean destroyed;

    private DataKey(byte[] bytes) {
        this.bytes = bytes;
    }

    static DataKey random() {
        byte[] b = new byte[LENGTH];
        RANDOM.nextBytes(b);
        return new DataKey(b);
    }

    /** Takes ownership of {@code bytes}: the caller must not keep or reuse the array. */
    static DataKey adopt(byte[] bytes) {
        if (bytes.length != LENGTH) {
            throw new IllegalArgumentException("a data key has " + LENGTH + " bytes, got " + bytes.length);
        }
        return new DataKey(bytes);
    }

    /** The key bytes, for HPKE wrapping and HKDF only; the array is shared, never modify it. */
    byte[] material() {
        if (destroyed) {
            throw new IllegalStateException("data key used after destroy()");
        }
        return bytes;
    }

    DataKey copy() {
        return new DataKey(material().clone());
    }

    void destroy() {
        destroyed = true;
        Arrays.fill(bytes, (byte) 0);
    }

    boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return destroyed ? "DataKey[destroyed]" : "DataKey[256-bit, redacted]";
    }
}
