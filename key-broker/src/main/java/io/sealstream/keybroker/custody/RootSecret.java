package io.sealstream.keybroker.custody;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.subtle.AesGcmJce;
import com.google.crypto.tink.subtle.Hkdf;
import io.sealstream.envelope.SealingKeyPair;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The key broker's 256-bit root secret. It exists only in the broker TEE's memory (and, in
 * {@code dev} custody, in a file); every key that protects state at rest is derived from it with
 * HKDF-SHA256 under a purpose label, so nothing on disk opens without it. Its {@link #id()} is a
 * derived value, safe to store and log, that names which root sealed a file.
 */
public final class RootSecret implements AutoCloseable {
    /** Length of the root and of every derived key. */
    public static final int LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] secret;
    private final byte[] id;

    private RootSecret(byte[] secret) {
        this.secret = secret;
        this.id = derive("root-id");
    }

    /** A fresh root from the platform's CSPRNG. */
    public static RootSecret generate() {
        byte[] b = new byte[LENGTH];
        RANDOM.nextBytes(b);
        return new RootSecret(b);
    }

    /** A root from its bytes (a dev file, an opened handover); copies them. */
    static RootSecret of(byte[] secret) {
        if (secret == null || secret.length != LENGTH) {
            throw new IllegalArgumentException("a root secret is " + LENGTH + " bytes");
        }
        return new RootSecret(secret.clone());
    }

    /** HKDF-SHA256 of the root for {@code purpose}: a public identifier, the same for every holder. */
    public byte[] id() {
        return id.clone();
    }

    public String idHex() {
        return HexFormat.of().formatHex(id);
    }

    /** AES-256-GCM under the key derived for {@code purpose}, e.g. {@code "keysets"}. */
    Aead aead(String purpose) {
        byte[] key = derive("at-rest/" + purpose);
        try {
            return new AesGcmJce(key);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM is not available", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** The root sealed to {@code publicKey} (a TEE's or the owner's) under {@code context}. */
    byte[] sealTo(byte[] publicKey, byte[] context) throws GeneralSecurityException {
        return SealingKeyPair.seal(publicKey, secret, context);
    }

    /**
     * Opens a root sealed to {@code keys} under {@code context}.
     *
     * @throws GeneralSecurityException if it was sealed to another key or context, or is not a root
     */
    static RootSecret openFrom(SealingKeyPair keys, byte[] sealed, byte[] context) throws GeneralSecurityException {
        byte[] plain = keys.open(sealed, context);
        try {
            if (plain.length != LENGTH) {
                throw new GeneralSecurityException("the sealed value is not a " + LENGTH + "-byte root secret");
            }
            return of(plain);
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    /**
     * The next root of the ratchet: HKDF of this one. One-way: holding the next root does not give
     * this one, so state sealed under this one is gone for good once every copy of it is destroyed.
     */
    RootSecret next() {
        return new RootSecret(derive("ratchet"));
    }

    /** The raw bytes, for the {@code dev} custody file only. */
    byte[] exportForDevFile() {
        return secret.clone();
    }

    private byte[] derive(String purpose) {
        try {
            return Hkdf.computeHkdf("HMACSHA256", secret, new byte[0],
                    ("sealstream/v1/root/" + purpose).getBytes(StandardCharsets.UTF_8), LENGTH);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HKDF-SHA256 is not available", e);
        }
    }

    /** Zeroes the secret; the broker calls it when it stops. */
    @Override
    public void close() {
        Arrays.fill(secret, (byte) 0);
    }

    @Override
    public String toString() {
        return "RootSecret[id=" + idHex().substring(0, 16) + "…, secret=redacted]";
    }
}
