package io.sealstream.envelope;

import com.google.crypto.tink.KeysetHandle;
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
    private final HpkeRecipient recipient;

    private TopicPublicKeys(String topic, HpkeRecipient recipient) {
        this.topic = topic;
        this.recipient = recipient;
    }

    static TopicPublicKeys of(String topic, KeysetHandle publicHandle) throws GeneralSecurityException {
        return new TopicPublicKeys(topic, HpkeRecipient.of(publicHandle));
    }

    /**
     * Parses a public keyset as served by the key broker.
     *
     * @throws GeneralSecurityException if the bytes are not a Tink public keyset of the v1 suite
     */
    public static TopicPublicKeys parse(String topic, byte[] serializedKeyset) throws GeneralSecurityException {
        Objects.requireNonNull(topic, "topic");
        return new TopicPublicKeys(topic, HpkeRecipient.parse(serializedKeyset));
    }

    /** The request topic these keys protect. */
    public String topic() {
        return topic;
    }

    /** The id new sessions wrap to (unsigned 32-bit). */
    public long primaryKeyId() {
        return TopicKeyset.unsigned(recipient.handle().getPrimary().getId());
    }

    /** The Tink binary keyset, as the key broker serves it. */
    public byte[] toBytes() {
        return recipient.serialized().clone();
    }

    /** SHA-256 of {@link #toBytes()} in hex: what the key broker's evidence binds. */
    public String fingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(recipient.serialized()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /** HPKE-wraps a DEK to the primary key under the session's context info. */
    byte[] wrap(DataKey dek, byte[] contextInfo) {
        return recipient.encrypt(dek.material(), contextInfo);
    }

    @Override
    public String toString() {
        return "TopicPublicKeys[topic=" + topic + ", primary=" + primaryKeyId() + ", keys="
                + recipient.handle().size() + "]";
    }
}
