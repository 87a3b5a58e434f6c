package io.sealstream.envelope;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A worker's ephemeral HPKE key pair, made at boot inside the TEE. Its public half is bound into
 * the attestation evidence (report_data); the key broker releases topic keysets encrypted to it,
 * so only this process can open them. The private half never leaves memory.
 */
public final class TeeKeyPair {
    private final SealingKeyPair keys;
    private final byte[] publicKey;

    private TeeKeyPair(SealingKeyPair keys) {
        this.keys = keys;
        this.publicKey = keys.publicKey();
    }

    /** A fresh key pair of the v1 HPKE suite. */
    public static TeeKeyPair generate() {
        return new TeeKeyPair(SealingKeyPair.generate());
    }

    /** The public key as a Tink binary public keyset: what report_data binds and the broker encrypts to. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /**
     * Checks that {@code publicKey} is a Tink public keyset of the v1 HPKE suite, as a TEE would
     * present it; the key broker refuses anything else before it attests.
     */
    public static void requireValidPublicKey(byte[] publicKey) throws GeneralSecurityException {
        HpkeRecipient.parse(publicKey);
    }

    /** SHA-256 of {@link #publicKey()} in hex, for logs and audit events. */
    public String publicKeyFingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(publicKey));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /**
     * Opens a keyset the key broker released to this key pair.
     *
     * @throws GeneralSecurityException if it was encrypted to another key, for another topic, or altered
     */
    public TopicKeyset openRelease(String topic, byte[] released, String leaseToken) throws GeneralSecurityException {
        byte[] plaintext = keys.open(released, TopicKeyset.releaseContext(topic, leaseToken));
        try {
            return TopicKeyset.fromRelease(topic, plaintext);
        } finally {
            java.util.Arrays.fill(plaintext, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "TeeKeyPair[public=" + publicKeyFingerprint().substring(0, 16) + "…, private=redacted]";
    }
}
