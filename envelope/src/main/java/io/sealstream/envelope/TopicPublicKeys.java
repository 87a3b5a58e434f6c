package io.sealstream.envelope;

import com.google.crypto.tink.HybridEncrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import com.google.crypto.tink.hybrid.HpkePublicKey;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The public HPKE keyset of a request topic, as a client receives it from the key broker. New
 * sessions wrap their DEK to the primary key.
 */
public final class TopicPublicKeys {
    private final String topic;
    private final KeysetHandle handle;
    private final HybridEncrypt encrypt;
    private final byte[] serialized;

    private TopicPublicKeys(String topic, KeysetHandle handle) throws GeneralSecurityException {
        for (int i = 0; i < handle.size(); i++) {
            if (!(handle.getAt(i).getKey() instanceof HpkePublicKey key)
                    || !key.getParameters().equals(TopicKeyParameters.hpke())) {
                throw new GeneralSecurityException("key " + TopicKeyset.unsigned(handle.getAt(i).getId())
                        + " is not an HPKE P-384/AES-256-GCM public key");
            }
        }
        this.topic = topic;
        this.handle = handle;
        this.encrypt = handle.getPrimitive(RegistryConfiguration.get(), HybridEncrypt.class);
        this.serialized = TinkProtoKeysetFormat.serializeKeysetWithoutSecret(handle);
    }

    static TopicPublicKeys of(String topic, KeysetHandle publicHandle) throws GeneralSecurityException {
        return new TopicPublicKeys(topic, publicHandle);
    }

    /**
     * Parses a public keyset as served by the key broker.
     *
     * @throws GeneralSecurityException if the bytes are not a Tink public keyset of the v1 suite
     */
    public static TopicPublicKeys parse(String topic, byte[] serializedKeyset) throws GeneralSecurityException {
        Objects.requireNonNull(topic, "topic");
        TopicKeyParameters.hpke(); // registers Tink's HPKE before parsing
        return new TopicPublicKeys(topic, TinkProtoKeysetFormat.parseKeysetWithoutSecret(serializedKeyset));
    }

    /** The request topic these keys protect. */
    public String topic() {
        return topic;
    }

    /** The id new sessions wrap to (unsigned 32-bit). */
    public long primaryKeyId() {
        return TopicKeyset.unsigned(handle.getPrimary().getId());
    }

    /** The Tink binary keyset, as the key broker serves it. */
    public byte[] toBytes() {
        return serialized.clone();
    }

    /** SHA-256 of {@link #toBytes()} in hex: what the key broker's evidence binds. */
    public String fingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(serialized));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** HPKE-wraps a DEK to the primary key under the session's context info. */
    byte[] wrap(DataKey dek, byte[] contextInfo) {
        try {
            return encrypt.encrypt(dek.material(), contextInfo);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HPKE encryption to topic '" + topic + "' failed", e);
        }
    }

    @Override
    public String toString() {
        return "TopicPublicKeys[topic=" + topic + ", primary=" + primaryKeyId() + ", keys=" + handle.size() + "]";
    }
}
