package io.sealstream.keybroker.custody;

import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.envelope.SealingKeyPair;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Proof that a request comes from the holder of the owner's recovery key, which is an encryption
 * key: the broker seals a fresh 32-byte key to it, and accepts a document only with an
 * HMAC-SHA256 under that key over the nonce, the policy in force and the document. Each challenge is single use and expires after 2 minutes; at most
 * 16 are outstanding (a new one evicts the oldest), so asking for challenges costs no memory.
 */
public final class OwnerChallenges {
    /** How long a challenge stays usable. */
    public static final Duration TTL = Duration.ofMinutes(2);
    private static final int MAX_OUTSTANDING = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Clock clock;
    private final Map<String, Outstanding> outstanding = new LinkedHashMap<>();

    private record Outstanding(byte[] key, Instant expiresAt) {
    }

    /** A challenge: the nonce, the key sealed to the owner, its expiry. */
    public record Issued(byte[] nonce, byte[] sealedKey, Instant expiresAt) {
    }

    public OwnerChallenges(Clock clock) {
        this.clock = clock;
    }

    /** A new challenge sealed to {@code ownerKey}. */
    public synchronized Issued issue(byte[] ownerKey) throws GeneralSecurityException {
        byte[] nonce = new byte[32];
        byte[] key = new byte[32];
        RANDOM.nextBytes(nonce);
        RANDOM.nextBytes(key);
        byte[] sealed = SealingKeyPair.seal(ownerKey, key, context(nonce));
        if (outstanding.size() >= MAX_OUTSTANDING) {
            Iterator<Map.Entry<String, Outstanding>> oldest = outstanding.entrySet().iterator();
            Arrays.fill(oldest.next().getValue().key(), (byte) 0);
            oldest.remove();
        }
        Instant expires = clock.instant().plus(TTL);
        outstanding.put(Base64.getEncoder().encodeToString(nonce), new Outstanding(key, expires));
        return new Issued(nonce, sealed, expires);
    }

    /** Whether {@code mac} is the owner's MAC of {@code document} under the challenge {@code nonce}; uses it up. */
    public synchronized boolean verify(byte[] nonce, String currentPolicyId, String document, byte[] mac) {
        if (nonce == null || nonce.length != 32 || document == null || mac == null) {
            return false;
        }
        String id = Base64.getEncoder().encodeToString(nonce);
        Outstanding o = outstanding.get(id);
        if (o == null) {
            return false;
        }
        if (clock.instant().isAfter(o.expiresAt())) {
            outstanding.remove(id);
            Arrays.fill(o.key(), (byte) 0);
            return false;
        }
        // a wrong MAC leaves the challenge for the owner: whoever saw the nonce cannot burn it
        if (!MessageDigest.isEqual(mac(o.key(), nonce, currentPolicyId, document), mac)) {
            return false;
        }
        outstanding.remove(id);
        Arrays.fill(o.key(), (byte) 0);
        return true;
    }

    /** The owner's side: open the challenge and MAC {@code document} as a change from {@code currentPolicyId}. */
    public static byte[] answer(SealingKeyPair owner, byte[] nonce, byte[] sealedKey, String currentPolicyId,
                                String document) throws GeneralSecurityException {
        byte[] key = owner.open(sealedKey, context(nonce));
        try {
            return mac(key, nonce, currentPolicyId, document);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    private static byte[] context(byte[] nonce) {
        return ReportDataBinding.forCustody("policy-challenge", nonce);
    }

    private static byte[] mac(byte[] key, byte[] nonce, String currentPolicyId, String document) {
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(new SecretKeySpec(key, "HmacSHA256"));
            return hmac.doFinal(ReportDataBinding.forCustody("policy-change", nonce,
                    ReportDataBinding.sha256Hex(currentPolicyId), ReportDataBinding.sha256(
                            document.getBytes(StandardCharsets.UTF_8))));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available", e);
        }
    }
}
