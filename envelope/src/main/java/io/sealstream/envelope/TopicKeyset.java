package io.sealstream.envelope;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.HybridDecrypt;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import io.sealstream.schemas.ErrorCode;
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
 * <p>Immutable: {@link #withPending}, {@link #promotePending}, {@link #rotate} and
 * {@link #retireExpired} return a new keyset with a higher {@link #version()}. A pending key is
 * published to workers before clients use it; the primary key wraps new sessions; a demoted key keeps decrypting in-flight records for the grace period, then
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
    private final long version;
    private final HybridDecrypt decrypt;

    private TopicKeyset(String topic, KeysetHandle handle, Map<Long, Instant> createdAt,
                        Map<Long, Instant> demotedAt, Set<Long> retired, long version) throws GeneralSecurityException {
        this.topic = topic;
        this.version = version;
        this.handle = handle;
        this.createdAt = Map.copyOf(createdAt);
        this.demotedAt = Map.copyOf(demotedAt);
        this.retired = Set.copyOf(retired);
        this.decrypt = handle.getPrimitive(RegistryConfiguration.get(), HybridDecrypt.class);
    }

    private TopicKeyset(KeysetHandle handle, KeysetMetadata m) throws GeneralSecurityException {
        this(m.topic(), handle, m.createdAt(), m.demotedAt(), m.retired(), m.version());
        for (int i = 0; i < handle.size(); i++) {
            if (!createdAt.containsKey(unsigned(handle.getAt(i).getId()))) {
                throw new GeneralSecurityException("key " + unsigned(handle.getAt(i).getId())
                        + " has no rotation state");
            }
        }
        if (handle.size() != createdAt.size()) {
            throw new GeneralSecurityException("rotation state names " + createdAt.size() + " keys, the keyset holds "
                    + handle.size());
        }
    }

    /** A new keyset for {@code topic} with one fresh primary key. */
    public static TopicKeyset generate(String topic, Instant now) {
        requireTopic(topic);
        try {
            KeysetHandle handle = KeysetHandle.generateNew(TopicKeyParameters.hpke());
            long id = unsigned(handle.getPrimary().getId());
            return new TopicKeyset(topic, handle, Map.of(id, now), Map.of(), Set.of(), 1);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not generate an HPKE P-384 key", e);
        }
    }

    /**
     * A keyset with a new primary key; the old primary becomes {@link KeyState#DECRYPT_ONLY} as of
     * {@code now}.
     */
    public TopicKeyset rotate(Instant now) {
        // a key published and promoted at once: what a rotation without lead time is
        return withPending(now).promotePending(now);
    }

    /**
     * A keyset with one more key, {@link KeyState#PENDING}: workers that receive this keyset can
     * open records sealed to it, clients do not use it until {@link #promotePending}. Returns
     * {@code this} if a key is already pending.
     */
    public TopicKeyset withPending(Instant now) {
        if (pendingKeyId().isPresent()) {
            return this;
        }
        try {
            KeysetHandle next;
            long id;
            do {
                KeysetHandle.Builder builder = KeysetHandle.newBuilder(handle);
                builder.addEntry(KeysetHandle.generateEntryFromParameters(TopicKeyParameters.hpke()).withRandomId());
                next = builder.build();
                id = unsigned(next.getAt(next.size() - 1).getId());
                // a retired id must never come back: a late record would then meet the wrong key
            } while (retired.contains(id));
            Map<Long, Instant> created = new HashMap<>(createdAt);
            created.put(id, now);
            return new TopicKeyset(topic, next, created, demotedAt, retired, version + 1);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not add a pending key to topic '" + topic + "'", e);
        }
    }

    /**
     * The pending key becomes primary as of {@code now}, the old primary decrypt-only; without a
     * pending key this is {@link #rotate}.
     */
    public TopicKeyset promotePending(Instant now) {
        java.util.Optional<Long> pending = pendingKeyId();
        if (pending.isEmpty()) {
            return withPending(now).promotePending(now);
        }
        try {
            KeysetHandle.Builder builder = KeysetHandle.newBuilder(handle);
            for (int i = 0; i < handle.size(); i++) {
                if (unsigned(handle.getAt(i).getId()) == pending.get()) {
                    builder.getAt(i).makePrimary();
                }
            }
            long oldPrimary = primaryKeyId();
            Map<Long, Instant> created = new HashMap<>(createdAt);
            created.put(pending.get(), now); // when it became primary: the next rotation counts from here
            Map<Long, Instant> demoted = new HashMap<>(demotedAt);
            demoted.put(oldPrimary, now);
            return new TopicKeyset(topic, builder.build(), created, demoted, retired, version + 1);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not promote the pending key of topic '" + topic + "'", e);
        }
    }

    /** The key published to workers but not yet to clients, if any. */
    public java.util.Optional<Long> pendingKeyId() {
        long primary = primaryKeyId();
        return createdAt.keySet().stream().filter(id -> id != primary && !demotedAt.containsKey(id)).findFirst();
    }

    /** Raised by every change: a holder installs a keyset only if this does not move backwards. */
    public long version() {
        return version;
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
            return new TopicKeyset(topic, builder.build(), created, demoted, gone, version + 1);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink could not drop expired keys of topic '" + topic + "'", e);
        }
    }

    /**
     * The keyset encrypted at rest under {@code kek} (the key broker's key-encryption key), with
     * its rotation state authenticated as associated data. Open it with {@link #fromSealed}.
     */
    public byte[] toSealed(Aead kek) {
        byte[] meta = metadata().encode();
        try {
            byte[] keys = TinkProtoKeysetFormat.serializeEncryptedKeyset(handle, kek, atRestAad(meta));
            return frame(meta, keys);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing the keyset of topic '" + topic + "' failed", e);
        }
    }

    /**
     * Opens a keyset sealed by {@link #toSealed}.
     *
     * @throws GeneralSecurityException if {@code kek} is not the key it was sealed with, or any byte
     *     (keys or rotation state) changed
     */
    public static TopicKeyset fromSealed(byte[] sealed, Aead kek) throws GeneralSecurityException {
        TopicKeyParameters.hpke();
        byte[][] parts = unframe(sealed);
        KeysetMetadata meta = metadata(parts[0]);
        KeysetHandle handle = TinkProtoKeysetFormat.parseEncryptedKeyset(parts[1], kek, atRestAad(parts[0]));
        return new TopicKeyset(handle, meta);
    }

    /**
     * The keyset encrypted to a TEE's ephemeral public key, as the key broker releases it after
     * attestation. Only the holder of the {@link TeeKeyPair} can open it.
     *
     * @throws GeneralSecurityException if {@code teePublicKey} is not an HPKE key of the v1 suite
     */
    public byte[] releaseTo(byte[] teePublicKey, String leaseToken) throws GeneralSecurityException {
        byte[] meta = metadata().encode();
        byte[] keys = TinkProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get());
        try {
            return HpkeRecipient.parse(teePublicKey).encrypt(frame(meta, keys), releaseContext(topic, leaseToken));
        } finally {
            java.util.Arrays.fill(keys, (byte) 0);
        }
    }

    /** Opens what {@link #releaseTo} produced; package-private: {@link TeeKeyPair} is the only caller. */
    static TopicKeyset fromRelease(String expectedTopic, byte[] plaintext) throws GeneralSecurityException {
        byte[][] parts = unframe(plaintext);
        KeysetMetadata meta = metadata(parts[0]);
        if (!meta.topic().equals(expectedTopic)) {
            throw new GeneralSecurityException("the released keyset is for topic '" + meta.topic() + "', not '"
                    + expectedTopic + "'");
        }
        try {
            return new TopicKeyset(TinkProtoKeysetFormat.parseKeyset(parts[1], InsecureSecretKeyAccess.get()), meta);
        } finally {
            java.util.Arrays.fill(parts[1], (byte) 0);
        }
    }

    /**
     * HPKE info of a release: the topic and the lease token of the request that asked for it, so a
     * release recorded earlier and replayed to the worker under a later lease does not open.
     */
    static byte[] releaseContext(String topic, String leaseToken) {
        return CanonicalAad.labelled("sealstream/v1/keyset-release").string(topic).string(leaseToken).toBytes();
    }

    private KeysetMetadata metadata() {
        return new KeysetMetadata(topic, createdAt, demotedAt, retired, version);
    }

    private static KeysetMetadata metadata(byte[] encoded) throws GeneralSecurityException {
        try {
            return KeysetMetadata.decode(encoded);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException("the keyset's rotation state is unreadable: " + e.getMessage());
        }
    }

    private static byte[] atRestAad(byte[] meta) {
        return CanonicalAad.labelled("sealstream/v1/keyset-at-rest").string(
                java.util.HexFormat.of().formatHex(meta)).toBytes();
    }

    private static byte[] frame(byte[] meta, byte[] keys) {
        return ByteBuffer.allocate(4 + meta.length + keys.length).putInt(meta.length).put(meta).put(keys).array();
    }

    private static byte[][] unframe(byte[] framed) throws GeneralSecurityException {
        ByteBuffer in = ByteBuffer.wrap(framed);
        if (framed.length < 4) {
            throw new GeneralSecurityException("a sealed keyset has at least 4 bytes, got " + framed.length);
        }
        int metaLength = in.getInt();
        if (metaLength < 0 || metaLength > in.remaining()) {
            throw new GeneralSecurityException("a sealed keyset's rotation state length " + metaLength + " is out of range");
        }
        byte[] meta = new byte[metaLength];
        in.get(meta);
        byte[] keys = new byte[in.remaining()];
        in.get(keys);
        return new byte[][] {meta, keys};
    }

    /** When the primary key became primary. */
    public Instant primaryCreatedAt() {
        return createdAt.get(primaryKeyId());
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
        if (keyId == primaryKeyId()) {
            return KeyState.PRIMARY;
        }
        return demotedAt.containsKey(keyId) ? KeyState.DECRYPT_ONLY : KeyState.PENDING;
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
            throw new MalformedEnvelopeException(ErrorCode.MALFORMED,
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

    /** How many of this topic's keys were retired so far (their ids are kept, their keys are gone). */
    public int retiredKeys() {
        return retired.size();
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
