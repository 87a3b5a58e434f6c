package io.sealstream.envelope;

import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Set;

/**
 * An HPKE key pair of the v1 suite that small secrets are sealed to: a TEE's ephemeral key (the
 * key broker's root secret in a handover or a recovery), or the owner's recovery key, which alone
 * is ever written to a file (owner-only, on the owner's machine). {@link #seal} encrypts to the
 * public half; only the holder of the private half opens it, and only under the same context.
 */
public final class SealingKeyPair {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final KeysetHandle privateKeys;
    private final HybridDecrypt decrypt;
    private final byte[] publicKey;

    private SealingKeyPair(KeysetHandle privateKeys) throws GeneralSecurityException {
        this.privateKeys = privateKeys;
        this.decrypt = privateKeys.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class);
        this.publicKey = TinkProtoKeysetFormat.serializeKeysetWithoutSecret(privateKeys.getPublicKeysetHandle());
        HpkeRecipient.parse(publicKey); // refuses any other suite
    }

    /** A fresh key pair. */
    public static SealingKeyPair generate() {
        try {
            return new SealingKeyPair(KeysetHandle.generateNew(TopicKeyParameters.hpke()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not generate an HPKE P-384 key", e);
        }
    }

    /** The public half as a Tink binary public keyset. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /**
     * Encrypts {@code plaintext} to {@code publicKey} under {@code context}.
     *
     * @throws GeneralSecurityException if {@code publicKey} is not a v1-suite HPKE public keyset
     */
    public static byte[] seal(byte[] publicKey, byte[] plaintext, byte[] context) throws GeneralSecurityException {
        return HpkeRecipient.parse(publicKey).encrypt(plaintext, context);
    }

    /**
     * Decrypts what {@link #seal} produced for this key pair.
     *
     * @throws GeneralSecurityException if it was sealed to another key, under another context, or altered
     */
    public byte[] open(byte[] ciphertext, byte[] context) throws GeneralSecurityException {
        return decrypt.decrypt(ciphertext, context);
    }

    /**
     * Writes the private key to a new owner-only file; refuses to overwrite one. For the owner's
     * recovery key only: a TEE never writes its keys.
     */
    public void writePrivate(Path file) throws IOException {
        byte[] json;
        try {
            json = TinkJsonProtoKeysetFormat.serializeKeyset(privateKeys, InsecureSecretKeyAccess.get())
                    .getBytes(StandardCharsets.UTF_8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not serialize the recovery key", e);
        }
        try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(OWNER_ONLY))) {
            ch.write(java.nio.ByteBuffer.wrap(json));
        } finally {
            java.util.Arrays.fill(json, (byte) 0);
        }
    }

    /**
     * Reads a private key written by {@link #writePrivate}; refuses a file others may read.
     *
     * @throws IOException if it is unreadable, readable by others, or not a v1-suite HPKE private keyset
     */
    public static SealingKeyPair readPrivate(Path file) throws IOException {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(p -> !OWNER_ONLY.contains(p))) {
                throw new IOException(file + " may be read by others; run: chmod 600 " + file);
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the directory's own permissions must protect it
        }
        try {
            TopicKeyParameters.hpke();
            return new SealingKeyPair(TinkJsonProtoKeysetFormat.parseKeyset(Files.readString(file),
                    InsecureSecretKeyAccess.get()));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(file + " is not a recovery key written by 'sealstream key-broker recovery-key'", e);
        }
    }

    @Override
    public String toString() {
        return "SealingKeyPair[private=redacted]";
    }
}
