package io.sealstream.attestation;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * What a TEE puts into the 64-byte report_data field so that evidence proves possession of a key
 * and freshness (ARCHITECTURE.md §6): SHA-512 over the concatenated inputs.
 */
public final class ReportDataBinding {
    /** report_data is 64 bytes in both SNP reports and TDX quotes. */
    public static final int LENGTH = 64;

    private ReportDataBinding() {
    }

    /**
     * A worker's binding: SHA-512(nonce || tee_public_key || model_digest), where model_digest is
     * the {@link #modelSetDigest} of the models the worker loaded.
     */
    public static byte[] forWorker(byte[] nonce, byte[] teePublicKey, byte[] modelDigest) {
        return sha512(nonce, teePublicKey, modelDigest);
    }

    /**
     * The digest a worker serving several models attests to: for one model its own digest; for
     * several, SHA-256 over their 32-byte digests in ascending byte order, so neither side needs
     * the model names and the order engines were loaded in does not matter.
     *
     * @throws IllegalArgumentException if the list is empty or a digest is not 32 bytes
     */
    public static byte[] modelSetDigest(List<byte[]> modelDigests) {
        if (modelDigests.isEmpty() || modelDigests.stream().anyMatch(d -> d == null || d.length != 32)) {
            throw new IllegalArgumentException("model digests are one or more 32-byte SHA-256 values");
        }
        if (modelDigests.size() == 1) {
            return modelDigests.get(0).clone();
        }
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            modelDigests.stream().sorted(Arrays::compareUnsigned).forEach(md::update);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /**
     * The key broker's binding for a client: SHA-512(nonce || keyset_fingerprint || policy_id ||
     * SHA-256(topic) || SHA-256(custody) || SHA-256(log key)), every digest as its raw 32 bytes. The topic (family) is bound because one
     * broker serves several families (one per worker pool): without it, one family's genuine answer
     * could be passed off as another's. The custody mode ({@code dev}, {@code peer},
     * {@code recovery}) is bound as SHA-256 of its name, so a broker holding its root secret in a
     * host-readable file cannot claim otherwise. The transparency log's public key is bound as
     * SHA-256 of its encoding, so the key a client pins is one an attested broker holds.
     */
    public static byte[] forKeyBroker(byte[] nonce, byte[] keysetFingerprint, byte[] policyId, String topic,
                                      String custodyMode, byte[] logKeySha256) {
        return sha512(nonce, keysetFingerprint, policyId, sha256(topic.getBytes(StandardCharsets.UTF_8)),
                sha256(custodyMode.getBytes(StandardCharsets.UTF_8)), logKeySha256);
    }

    /**
     * A key-broker custody step's binding: SHA-512(label || parts...), where the label
     * {@code "sealstream/v1/custody/" + step} keeps one step's evidence from standing for another
     * (a handover request is not a grant, a recovery offer is not a custody record). Every part is
     * 32 bytes (nonces, SHA-256 digests; anything else is refused), so the concatenation is unambiguous.
     */
    public static byte[] forCustody(String step, byte[]... parts) {
        for (byte[] part : parts) {
            if (part == null || part.length != 32) {
                throw new IllegalArgumentException("a custody binding takes 32-byte parts (nonces, SHA-256 digests), got "
                        + (part == null ? "none" : part.length + " bytes"));
            }
        }
        byte[][] all = new byte[parts.length + 1][];
        all[0] = ("sealstream/v1/custody/" + step + "\0").getBytes(StandardCharsets.UTF_8);
        System.arraycopy(parts, 0, all, 1, parts.length);
        return sha512(all);
    }

    /**
     * The nonce a worker puts into its GPUs' SPDM measurement requests: SHA-256 of a label and the
     * worker's own 64-byte binding ({@link #forWorker}), so each GPU report is fresh for this
     * attestation and names the same TEE key and models. (It cannot prove the GPU is attached to
     * this TEE: a host with another confidential GPU elsewhere could relay the request.)
     */
    public static byte[] forGpu(byte[] workerBinding) {
        if (workerBinding.length != LENGTH) {
            throw new IllegalArgumentException("a worker binding is " + LENGTH + " bytes");
        }
        byte[] label = "sealstream/v1/gpu\0".getBytes(StandardCharsets.UTF_8);
        byte[] all = Arrays.copyOf(label, label.length + LENGTH);
        System.arraycopy(workerBinding, 0, all, label.length, LENGTH);
        return sha256(all);
    }

    /**
     * The binding as text, for evidence sources that take report data as a string and put its
     * UTF-8 bytes, zero-padded, into report_data (the Confidential Containers attestation agent):
     * the first 48 bytes of the binding in unpadded base64url, exactly 64 characters, so 384 of
     * its 512 bits reach the report.
     */
    public static String asText(byte[] binding) {
        if (binding.length != LENGTH) {
            throw new IllegalArgumentException("a binding is " + LENGTH + " bytes, got " + binding.length);
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(binding, TEXT_BYTES));
    }

    /** report_data as a TEE fills it when given {@link #asText} of {@code binding}. */
    public static byte[] textReportData(byte[] binding) {
        return asText(binding).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Whether the claims' report_data carries {@code binding}: the binding itself, or for SEV-SNP
     * and TDX evidence its {@link #textReportData text form}. Either proves the attested code asked
     * for this binding. (Azure's evidence binds through its runtime claims and never as text.)
     */
    public static boolean matches(byte[] binding, AttestedClaims claims) {
        return matches(binding, claims.reportData(), claims.tee());
    }

    /** As {@link #matches(byte[], AttestedClaims)} for report_data {@code reportData} of a {@code tee} report. */
    public static boolean matches(byte[] binding, byte[] reportData, TeeType tee) {
        if (MessageDigest.isEqual(binding, reportData)) {
            return true;
        }
        boolean textSource = tee == TeeType.SNP || tee == TeeType.TDX;
        return textSource && binding.length == LENGTH && MessageDigest.isEqual(textReportData(binding), reportData);
    }

    private static final int TEXT_BYTES = 48;

    /** SHA-256 of {@code bytes}. */
    public static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** Decodes a hex SHA-256 (as printed by the tools) into its 32 bytes. */
    public static byte[] sha256Hex(String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        if (b.length != 32) {
            throw new IllegalArgumentException("a SHA-256 digest has 64 hex digits, got " + hex.length());
        }
        return b;
    }

    private static byte[] sha512(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-512");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-512 is not available in this JVM", e);
        }
    }
}
