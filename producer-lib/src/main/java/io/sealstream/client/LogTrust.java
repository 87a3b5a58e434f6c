package io.sealstream.client;

import io.sealstream.transparency.LogMonitor;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * What a client requires of the key broker's transparency log (docs/transparency.md): heads signed
 * by {@code logKey}, each consistent with the last head this client accepted (kept in
 * {@code headFile}, beside the connection file, so a restart remembers it), the policy and the
 * broker's measurement proven included, and the policy in the log for at least
 * {@code minimumPolicyAge} before this client sends anything under it.
 *
 * @param logKey the log's public key (ECDSA P-256), pinned like the broker's measurement
 * @param headFile where the last accepted head is kept
 * @param minimumPolicyAge zero to accept a policy as soon as it is logged
 */
public record LogTrust(PublicKey logKey, Path headFile, Duration minimumPolicyAge) {

    public LogTrust {
        Objects.requireNonNull(logKey, "logKey");
        Objects.requireNonNull(headFile, "headFile");
        if (minimumPolicyAge == null || minimumPolicyAge.isNegative()) {
            throw new IllegalArgumentException("the minimum policy age is zero or more");
        }
    }

    /**
     * A trust in the log whose key is {@code x509} (the X.509 SubjectPublicKeyInfo the key broker
     * serves at {@code GET /v1/log/key} and binds into its evidence).
     *
     * @throws IllegalArgumentException if it is not a P-256 public key
     */
    public static LogTrust pinned(byte[] x509, Path headFile, Duration minimumPolicyAge) {
        PublicKey key;
        try {
            key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(x509));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("the pinned transparency log key is not an X.509-encoded EC public key; "
                    + "copy it again from 'sealstream clients add' or GET /v1/log/key");
        }
        if (!(key instanceof java.security.interfaces.ECPublicKey ec) || ec.getParams().getCurve().getField().getFieldSize() != 256) {
            throw new IllegalArgumentException("the pinned transparency log key is not a P-256 key");
        }
        return new LogTrust(key, headFile, minimumPolicyAge);
    }

    /** A monitor of the log under this trust: the pinned key, the kept head, the minimum policy age. */
    public LogMonitor monitor(Clock clock) {
        return new LogMonitor(logKey, headFile, minimumPolicyAge, clock);
    }
}
