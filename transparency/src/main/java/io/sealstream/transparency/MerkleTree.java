package io.sealstream.transparency;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * An append-only Merkle tree of leaves as RFC 9162 (Certificate Transparency 2.0, §2.1) defines it
 * with SHA-256: a leaf's hash is SHA-256(0x00 || entry), an interior node's SHA-256(0x01 || left ||
 * right), the tree of n leaves splits at the largest power of two below n, and the empty tree's
 * hash is SHA-256 of nothing. It answers the tree head of any earlier size and the inclusion and
 * consistency proofs between sizes, so a log can prove it only ever appended.
 *
 * <p>The hash of every complete, aligned subtree (2^j leaves from a multiple of 2^j) is kept as
 * leaves arrive; every subtree the RFC's recursion meets is either one of those or the last,
 * partial one, so a root or a proof costs O(log² n) hashes, not O(n): a reader asking for proofs
 * of a large log cannot make the log that serves it hash the whole tree per request.
 *
 * <p>Not thread-safe; the log that owns it serialises appends and reads.
 */
public final class MerkleTree {
    private final List<byte[]> leafHashes = new ArrayList<>();
    /** {@code complete.get(j - 1).get(i)}: the hash of leaves [i·2^j, (i+1)·2^j), for j ≥ 1. */
    private final List<List<byte[]>> complete = new ArrayList<>();

    /** Appends an entry; returns its index. */
    public long append(byte[] entry) {
        leafHashes.add(leafHash(entry));
        int count = leafHashes.size();
        List<byte[]> below = leafHashes;
        for (int j = 1; count % (1 << j) == 0; j++) {
            if (complete.size() < j) {
                complete.add(new ArrayList<>());
            }
            List<byte[]> level = complete.get(j - 1);
            int i = below.size() - 2;
            level.add(nodeHash(below.get(i), below.get(i + 1)));
            below = level;
        }
        return count - 1L;
    }

    /** Makes this tree {@code other}'s leaves (a log dropping entries it never acknowledged). */
    void replaceWith(MerkleTree other) {
        leafHashes.clear();
        leafHashes.addAll(other.leafHashes);
        complete.clear();
        other.complete.forEach(level -> complete.add(new ArrayList<>(level)));
    }

    /** How many leaves the tree holds. */
    public long size() {
        return leafHashes.size();
    }

    /** The root hash of the first {@code size} leaves (the tree as it was at that size). */
    public byte[] rootHash(long size) {
        checkSize(size);
        return size == 0 ? sha256(new byte[0]) : hash(0, (int) size);
    }

    /**
     * The audit path of leaf {@code index} in the tree of {@code size} leaves (RFC 9162 §2.1.3.1),
     * from the leaf's sibling up.
     */
    public List<byte[]> inclusionProof(long index, long size) {
        checkSize(size);
        if (index < 0 || index >= size) {
            throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + size);
        }
        List<byte[]> out = new ArrayList<>();
        path((int) index, 0, (int) size, out);
        return out;
    }

    /**
     * The proof that the tree of {@code first} leaves is a prefix of the tree of {@code second}
     * (RFC 9162 §2.1.4.1); empty when the sizes are equal.
     */
    public List<byte[]> consistencyProof(long first, long second) {
        checkSize(second);
        if (first < 0 || first > second) {
            throw new IllegalArgumentException("a consistency proof runs from a smaller tree to a larger: " + first + " to "
                    + second);
        }
        List<byte[]> out = new ArrayList<>();
        if (first > 0 && first < second) {
            subproof((int) first, 0, (int) second, true, out);
        }
        return out;
    }

    /** A leaf's hash: SHA-256(0x00 || entry). */
    public static byte[] leafHash(byte[] entry) {
        MessageDigest md = sha256();
        md.update((byte) 0x00);
        md.update(entry);
        return md.digest();
    }

    /** An interior node's hash: SHA-256(0x01 || left || right). */
    static byte[] nodeHash(byte[] left, byte[] right) {
        MessageDigest md = sha256();
        md.update((byte) 0x01);
        md.update(left);
        md.update(right);
        return md.digest();
    }

    /** MTH of leaves [from, to). */
    private byte[] hash(int from, int to) {
        int n = to - from;
        if (n == 1) {
            return leafHashes.get(from);
        }
        if (Integer.bitCount(n) == 1 && from % n == 0) {
            return complete.get(Integer.numberOfTrailingZeros(n) - 1).get(from / n); // kept as the leaves arrived
        }
        int k = split(n);
        return nodeHash(hash(from, from + k), hash(from + k, to));
    }

    /** PATH(m, D[from:to]). */
    private void path(int m, int from, int to, List<byte[]> out) {
        int n = to - from;
        if (n == 1) {
            return;
        }
        int k = split(n);
        if (m < k) {
            path(m, from, from + k, out);
            out.add(hash(from + k, to));
        } else {
            path(m - k, from + k, to, out);
            out.add(hash(from, from + k));
        }
    }

    /** SUBPROOF(m, D[from:to], b). */
    private void subproof(int m, int from, int to, boolean complete, List<byte[]> out) {
        int n = to - from;
        if (m == n) {
            if (!complete) {
                out.add(hash(from, to));
            }
            return;
        }
        int k = split(n);
        if (m <= k) {
            subproof(m, from, from + k, complete, out);
            out.add(hash(from + k, to));
        } else {
            subproof(m - k, from + k, to, false, out);
            out.add(hash(from, from + k));
        }
    }

    /** The largest power of two smaller than {@code n} (n > 1). */
    static int split(int n) {
        return Integer.highestOneBit(n - 1);
    }

    private void checkSize(long size) {
        if (size < 0 || size > leafHashes.size()) {
            throw new IllegalArgumentException("the tree has " + leafHashes.size() + " leaves, not " + size);
        }
    }

    static byte[] sha256(byte[] b) {
        return sha256().digest(b);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }
}
