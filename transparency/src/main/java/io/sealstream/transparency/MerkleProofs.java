package io.sealstream.transparency;

import java.security.MessageDigest;
import java.util.List;

/**
 * Verification of RFC 9162 proofs (§2.1.3.2 inclusion, §2.1.4.2 consistency) by someone who holds
 * only tree heads: a client that pinned the last head it saw, an auditor. Each method answers
 * whether the proof holds; none trusts the proof's length or the sizes it is given.
 */
public final class MerkleProofs {
    private MerkleProofs() {
    }

    /** Whether {@code proof} shows the leaf with hash {@code leafHash} at {@code index} in the tree of {@code size} with root {@code root}. */
    public static boolean inclusion(byte[] leafHash, long index, long size, List<byte[]> proof, byte[] root) {
        if (index < 0 || index >= size || proof.size() > 64) {
            return false;
        }
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : proof) {
            if (p == null || p.length != 32 || sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = MerkleTree.nodeHash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = MerkleTree.nodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && MessageDigest.isEqual(r, root);
    }

    /**
     * Whether {@code proof} shows that the tree of {@code firstSize} leaves with root
     * {@code firstRoot} is a prefix of the tree of {@code secondSize} with root {@code secondRoot}:
     * the log only appended between the two heads. Equal sizes need equal roots and an empty proof;
     * a log that shrank ({@code secondSize < firstSize}) never passes.
     */
    public static boolean consistency(long firstSize, byte[] firstRoot, long secondSize, byte[] secondRoot, List<byte[]> proof) {
        if (firstSize < 0 || secondSize < firstSize || proof.size() > 64) {
            return false;
        }
        if (firstSize == secondSize) {
            return proof.isEmpty() && MessageDigest.isEqual(firstRoot, secondRoot);
        }
        if (firstSize == 0) {
            // every tree extends the empty one, whose root is SHA-256 of nothing
            return proof.isEmpty() && MessageDigest.isEqual(firstRoot, MerkleTree.sha256(new byte[0]));
        }
        if (proof.isEmpty() || proof.stream().anyMatch(p -> p == null || p.length != 32)) {
            return false;
        }
        java.util.ArrayList<byte[]> path = new java.util.ArrayList<>(proof);
        if (Long.bitCount(firstSize) == 1) {
            path.add(0, firstRoot); // the first tree is a complete subtree: its root starts the path
        }
        long fn = firstSize - 1;
        long sn = secondSize - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = path.get(0);
        byte[] sr = path.get(0);
        for (byte[] c : path.subList(1, path.size())) {
            if (sn == 0) {
                return false;
            }
            if ((fn & 1) == 1 || fn == sn) {
                fr = MerkleTree.nodeHash(c, fr);
                sr = MerkleTree.nodeHash(c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && MessageDigest.isEqual(fr, firstRoot) && MessageDigest.isEqual(sr, secondRoot);
    }
}
