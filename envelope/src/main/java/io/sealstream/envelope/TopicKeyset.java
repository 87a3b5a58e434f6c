package io.sealstream.envelope;

import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * The private HPKE keyset of one request topic with its rotation state (docs/protocol.md §keys).
 *
 * <p>Immutable: {@link #rotate} and {@link #retireExpired} return a new keyset. The primary key
 * wraps new sessions; a demoted key keeps decrypting in-flight records for the grace period, then
 * its private key is dropped and only its id is remembered, so a late record is refused as
 * {@link RetiredKeyException} rather than as an unknown key. Held by the key broker and, after
 * attested release, by workers; clients only ever see {@link #publicKeys()}.
 */
public final class TopicKeyset {
    /** Tink's output prefix: one version byte then the 4-byte big-endian key id. */
    private static final int TINK_PREFIX_LENGTH = 5;
    private static final byte TINK_PREFIX_VERSION = 0x01;

    private final String topic;
    private final KeysetHandle handle;
    private final Map<Long, Instant> createdAt;
    private final Map<Long, Instant> demotedAt;
    private final Set<Long> retired;
    private final HybridDecrypt decrypt;

    private TopicKeyset(String topic, KeysetHandle handle, Map<Long, Instant> createdAt,
                        Map<Long, Instant> demotedAt, Set<Long> retired) throws GeneralSecurityException {
        this.topic = topic;
        this.handle = handle;
        this.createdAt = Map.copyOf(createdAt);
        this.demotedAt = Map.copyOf(demotedAt);
        this.retired = Set.copyOf(retired);
        this.decrypt = handle.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class);
    }

    /** A new keyset for {@code topic} with one fresh primary key. */
    public static TopicKeyset generate(String topic, Instant now) {
        requireTopic(topic);
        try {
            KeysetHandle handle = KeysetHandle.generateNew(TopicKeyParameters.hpke());
            long id = unsigned(handle.getPrimary().getId());
            return new TopicKeyset(topic, handle, Map.of(id, now), Map.of(), Set.of());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not generate an HPKE P-384 key", e);
        }
    }

    /**
     * A keyset with a new primary key; the old primary becomes {@link KeyState#DECRYPT_ONLY} as of
     * {@code now}.
     */
    public TopicKeyset rotate(Instant now) {
        try {
            KeysetHandle rotated;
            do {
                KeysetHandle.Builder builder = KeysetHandle.newBuilder(handle);
                builder.addEntry(KeysetHandle.generateEntryFromParameters(TopicKeyParameters.hpke())
                        .withRandomId().makePrimary());
                rotated = builder.build();
                // a retired id must never come back: a late record would then meet the wrong key
            } while (retired.contains(unsigned(rotated.getPrimary().getId())));
            long oldPrimary = primaryKeyId();
            Map<Long, Instant> created = new HashMap<>(createdAt);
            created.put(unsigned(rotated.getPrimary().getId()), now);
            Map<Long, Instant> demoted = new HashMap<>(demotedAt);
            demoted.put(oldPrimary, now);
            return new TopicKeyset(topic, rotated, created, demoted, retired);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not rotate the keyset of topic '" + topic + "'", e);
        }
    }

    /**
     * A keyset without the private keys whose grace period ended by {@code now}; their ids become
     * {@link KeyState#RETIRED}. Returns {@code this} when nothing expired.
     */
    public TopicKeyset retireExpired(Instant now, Duration grace) {
        Set<Long> expired = new HashSet<>();
        demotedAt.forEach((id, at) -> {
            if (!at.plus(grace).isAfter(now)) {
                expired.add(id);
            }
        });
        if (expired.isEmpty()) {
            return this;
        }
        try {
            KeysetHandle.Builder builder = KeysetHandle.newBuilder(handle);
            // the builder keeps the handle's entry order, so index i names the same key in both
            for (int i = handle.size() - 1; i >= 0; i--) {
                if (expired.contains(unsigned(handle.getAt(i).getId()))) {
                    builder.deleteAt(i);
                }
            }
            Map<Long, Instant> created = new HashMap<>(createdAt);
            Map<Long, Instant> demoted = new HashMap<>(demotedAt);
            Set<Long> gone = new HashSet<>(retired);
            for (Long id : expired) {
                created.remove(id);
                demoted.remove(id);
                gone.add(id);
            }
            return new TopicKeyset(topic, builder.build(), created, demoted, gone);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not drop expired keys of topic '" + topic + "'", e);
        }
    }

    /** True when the primary key is at least {@code interval} old. */
    public boolean rotationDue(Instant now, Duration interval) {
        return !createdAt.get(primaryKeyId()).plus(interval).isAfter(now);
    }

    /** The topic this keyset protects. */
    public String topic() {
        return topic;
    }

    /** The id of the key new sessions wrap to (unsigned 32-bit). */
    public long primaryKeyId() {
        return unsigned(handle.getPrimary().getId());
    }

    /** The state of {@code keyId} in this keyset. */
    public KeyState state(long keyId) {
        if (retired.contains(keyId)) {
            return KeyState.RETIRED;
        }
        if (!createdAt.containsKey(keyId)) {
            return KeyState.UNKNOWN;
        }
        return keyId == primaryKeyId() ? KeyState.PRIMARY : KeyState.DECRYPT_ONLY;
    }

    /** The public half, safe to hand to any client. */
    public TopicPublicKeys publicKeys() {
        try {
            return TopicPublicKeys.of(topic, handle.getPublicKeysetHandle());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the keyset of topic '" + topic + "' has no public keys", e);
        }
    }

    /**
     * Recovers a session DEK wrapped to {@code keyId}. Unknown and retired keys fail with their own
     * exceptions; a wrapped DEK that does not open under the stated key and context is tampered.
     */
    DataKey unwrap(long keyId, byte[] wrapped, byte[] contextInfo) throws EnvelopeException {
        switch (state(keyId)) {
            case UNKNOWN -> throw new UnknownKeyException(topic, keyId);
            case RETIRED -> throw new RetiredKeyException(topic, keyId);
            default -> { }
        }
        if (wrapped.length <= TINK_PREFIX_LENGTH || wrapped[0] != TINK_PREFIX_VERSION
                || unsigned(ByteBuffer.wrap(wrapped, 1, 4).getInt()) != keyId) {
            throw new TamperedEnvelopeException("the wrapped DEK does not carry key id " + keyId);
        }
        byte[] dek;
        try {
            dek = decrypt.decrypt(wrapped, contextInfo);
        } catch (GeneralSecurityException e) {
            throw new TamperedEnvelopeException("the wrapped DEK for key id " + keyId);
        }
        if (dek.length != DataKey.LENGTH) {
            throw new MalformedEnvelopeException(ReasonCode.MALFORMED,
                    "the wrapped DEK holds " + dek.length + " bytes instead of " + DataKey.LENGTH);
        }
        return DataKey.adopt(dek);
    }

    static long unsigned(int keyId) {
        return Integer.toUnsignedLong(keyId);
    }

    private static void requireTopic(String topic) {
        Objects.requireNonNull(topic, "topic");
        if (topic.isBlank()) {
            throw new IllegalArgumentException("a topic keyset needs a topic name");
        }
    }

    /** Key ids and states only: never key material. */
    @Override
    public String toString() {
        Map<Long, KeyState> states = new TreeMap<>();
        createdAt.keySet().forEach(id -> states.put(id, state(id)));
        retired.forEach(id -> states.put(id, KeyState.RETIRED));
        return "TopicKeyset[topic=" + topic + ", keys=" + states + "]";
    }
}
