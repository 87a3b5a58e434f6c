package io.sealstream.transparency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tree and its proofs against the reference tree of RFC 6962's test data (the same hashing as
 * RFC 9162), then every proof between sizes up to 40 and the attacks a client must catch: a log
 * that forked (two trees of one size), one that shrank, a proof for another leaf.
 */
class MerkleTreeTest {
    private static final String[] LEAVES = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
            "606162636465666768696a6b6c6d6e6f"};
    private static final String[] ROOTS = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

    @Test
    void rootsOfEverySizeAreTheReferenceTreeHeads() {
        MerkleTree tree = reference();

        for (int n = 0; n <= 8; n++) {
            assertThat(hex(tree.rootHash(n))).as("size %d", n).isEqualTo(ROOTS[n]);
        }
    }

    @Test
    void theConsistencyProofFromThreeToSevenIsTheReferenceOne() {
        List<String> proof = reference().consistencyProof(3, 7).stream().map(MerkleTreeTest::hex).toList();

        assertThat(proof).containsExactly("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e");
    }

    @Test
    void everyInclusionProofVerifiesForEveryLeafOfEverySize() {
        MerkleTree tree = numbered(40);

        for (long n = 1; n <= 40; n++) {
            for (long i = 0; i < n; i++) {
                assertThat(MerkleProofs.inclusion(MerkleTree.leafHash(entry(i)), i, n, tree.inclusionProof(i, n), tree.rootHash(n)))
                        .as("leaf %d of %d", i, n).isTrue();
            }
        }
    }

    @Test
    void everyConsistencyProofVerifiesBetweenEveryPairOfSizes() {
        MerkleTree tree = numbered(40);

        for (long m = 0; m <= 40; m++) {
            for (long n = m; n <= 40; n++) {
                assertThat(MerkleProofs.consistency(m, tree.rootHash(m), n, tree.rootHash(n), tree.consistencyProof(m, n)))
                        .as("%d to %d", m, n).isTrue();
            }
        }
    }

    @Test
    void aForkedLogTwoTreesOfOneSizeIsCaught() {
        MerkleTree honest = numbered(20);
        MerkleTree forked = numbered(12);
        for (long i = 12; i < 20; i++) {
            forked.append(("other entry " + i).getBytes()); // the same first 12 entries, then a different history
        }

        // a client that saw the honest head of size 20 is shown the forked log grown to 25
        for (long i = 20; i < 25; i++) {
            forked.append(entry(i));
        }

        assertThat(MerkleProofs.consistency(20, honest.rootHash(20), 25, forked.rootHash(25), forked.consistencyProof(20, 25)))
                .isFalse();
        assertThat(MerkleProofs.consistency(20, honest.rootHash(20), 20, forked.rootHash(20), List.of())).isFalse();
    }

    @Test
    void aLogThatShrankNeverProvesConsistency() {
        MerkleTree tree = numbered(20);

        assertThat(MerkleProofs.consistency(20, tree.rootHash(20), 15, tree.rootHash(15), tree.consistencyProof(15, 20)))
                .isFalse();
    }

    @Test
    void aProofForOneLeafDoesNotProveAnother() {
        MerkleTree tree = numbered(20);

        assertThat(MerkleProofs.inclusion(MerkleTree.leafHash(entry(6)), 5, 20, tree.inclusionProof(5, 20), tree.rootHash(20)))
                .isFalse();
        assertThat(MerkleProofs.inclusion(MerkleTree.leafHash(entry(5)), 5, 20, tree.inclusionProof(5, 19), tree.rootHash(20)))
                .as("a proof from another tree size").isFalse();
    }

    @Test
    void aTamperedProofFails() {
        MerkleTree tree = numbered(20);
        List<byte[]> proof = new ArrayList<>(tree.consistencyProof(7, 20));
        proof.set(1, new byte[32]);

        assertThat(MerkleProofs.consistency(7, tree.rootHash(7), 20, tree.rootHash(20), proof)).isFalse();
    }

    private static MerkleTree reference() {
        MerkleTree t = new MerkleTree();
        for (String leaf : LEAVES) {
            t.append(HexFormat.of().parseHex(leaf));
        }
        return t;
    }

    private static MerkleTree numbered(int n) {
        MerkleTree t = new MerkleTree();
        for (long i = 0; i < n; i++) {
            t.append(entry(i));
        }
        return t;
    }

    private static byte[] entry(long i) {
        return ("entry " + i).getBytes();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
