package io.sealstream.transparency;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;

/**
 * The log's commitment to its state: tree size, root hash and time, signed by the log's key
 * (ECDSA P-256 with SHA-256, DER signature). The signed bytes are
 * {@code "sealstream/v1/tree-head\0" || size (u64, big-endian) || timestamp in ms (u64) || root (32)},
 * so a head cannot be passed off as any other signed message.
 *
 * @param size the number of entries
 * @param timestamp when it was signed
 * @param rootHash the tree's root at that size
 * @param signature over {@link #signedBytes()}
 */
public record SignedTreeHead(long size, Instant timestamp, byte[] rootHash, byte[] signature) {
    private static final byte[] LABEL = "sealstream/v1/tree-head\0".getBytes(StandardCharsets.US_ASCII);
    private static final String ALGORITHM = "SHA256withECDSA";

    public SignedTreeHead {
        if (size < 0 || rootHash.length != 32) {
            throw new IllegalArgumentException("a tree head has a size of 0 or more and a 32-byte root");
        }
        timestamp = Instant.ofEpochMilli(timestamp.toEpochMilli());
        rootHash = rootHash.clone();
        signature = signature.clone();
    }

    @Override
    public byte[] rootHash() {
        return rootHash.clone();
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SignedTreeHead h && h.size == size && h.timestamp.equals(timestamp)
                && java.util.Arrays.equals(h.rootHash, rootHash) && java.util.Arrays.equals(h.signature, signature);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(size, timestamp, java.util.Arrays.hashCode(rootHash), java.util.Arrays.hashCode(signature));
    }

    /** The bytes the signature covers. */
    public byte[] signedBytes() {
        return signedBytes(size, timestamp, rootHash);
    }

    /** Signs the head of a tree of {@code size} with {@code rootHash} at {@code timestamp}. */
    public static SignedTreeHead sign(long size, Instant timestamp, byte[] rootHash, PrivateKey key) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(signedBytes(size, timestamp, rootHash));
            return new SignedTreeHead(size, timestamp, rootHash, s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a tree head with the log key", e);
        }
    }

    /** Whether the signature holds under {@code logKey}. */
    public boolean verify(PublicKey logKey) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(logKey);
            s.update(signedBytes());
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static byte[] signedBytes(long size, Instant timestamp, byte[] rootHash) {
        return ByteBuffer.allocate(LABEL.length + 8 + 8 + 32).put(LABEL).putLong(size).putLong(timestamp.toEpochMilli())
                .put(rootHash).array();
    }
}
