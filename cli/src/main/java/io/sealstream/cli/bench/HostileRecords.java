package io.sealstream.cli.bench;

import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.SealedRequest;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.InferenceRequest;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The fuzzer of fault scenario R3: hostile request records of every kind a tenant or the broker
 * could write, drawn from a seeded {@link Random} so a failing run reproduces. A tenant that holds
 * the topic's public keys can also seal records that authenticate (expired, future-dated, too
 * large, replayed); those are sealed under the fuzzer's own client, whose sessions it keeps to
 * open the encrypted errors it gets back.
 */
final class HostileRecords {
    /** What a hostile record is, and so how it must end. */
    enum Kind {
        RANDOM_BYTES, TRUNCATED, OVERSIZED, LENGTH_CLAIM, BIT_FLIP, UNKNOWN_KEY, UNKNOWN_CLIENT, ILLEGAL_CLIENT,
        CLIENT_SWAP, WRONG_TOPIC, HUGE_FIELD, REPLAY, EXPIRED, FUTURE, TOO_MANY_TEXTS;

        /** Kinds that authenticate and so are answered (encrypted) rather than dead-lettered. */
        boolean answered() {
            return this == EXPIRED || this == FUTURE || this == TOO_MANY_TEXTS;
        }
    }

    /** One hostile record as sent: its Kafka key (also its request id where it has one) and kind. */
    record Sent(String key, Kind kind) {
    }

    static final String CANARY = "CANARY-fuzz-3e9a-hostile-plaintext";
    private static final int OVERSIZED_BYTES = 1_040_000;

    private final Random random;
    private final String topic;
    private final String model;
    private final String clientId;
    private final Serializer<SealedRequest> sealed;
    private final ConfluentAvroSerializer<EncryptedRequest> avro;
    private final ClientSession current;
    private final ClientSession expired;
    private final ClientSession future;
    private final ClientSession stranger;
    private final ClientSession otherTopic;
    private final Map<String, ClientSession> sessionByRequest = new ConcurrentHashMap<>();
    private final byte[] oversized;

    HostileRecords(long seed, TopicPublicKeys keys, String requestTopic, String clientId, String model,
                   Serializer<SealedRequest> sealed, ConfluentAvroSerializer<EncryptedRequest> avro) {
        this.random = new Random(seed);
        this.topic = requestTopic;
        this.model = model;
        this.clientId = clientId;
        this.sealed = sealed;
        this.avro = avro;
        Instant now = Instant.now();
        this.current = ClientSession.builder(keys).clientId(clientId).requestTopic(topic).build();
        this.expired = ClientSession.builder(keys).clientId(clientId).requestTopic(topic)
                .clock(Clock.fixed(now.minus(Duration.ofHours(4)), ZoneOffset.UTC)).build();
        this.future = ClientSession.builder(keys).clientId(clientId).requestTopic(topic)
                .clock(Clock.fixed(now.plus(Duration.ofHours(1)), ZoneOffset.UTC)).build();
        this.stranger = ClientSession.builder(TopicKeyset.generate(keys.topic(), now).publicKeys()).clientId(clientId)
                .requestTopic(topic).build();
        // the family's real keys, but sealed for another client's topic: the wrap and AAD name that topic
        this.otherTopic = ClientSession.builder(keys).clientId(clientId).requestTopic(keys.topic() + ".acme").build();
        this.oversized = new byte[OVERSIZED_BYTES];
        random.nextBytes(oversized);
    }

    /** The records of hostile record number {@code i} (two for a replay: the original and its copy). */
    List<ProducerRecord<String, byte[]>> next(int i, List<Sent> sent) {
        String key = "h-" + i;
        Kind kind = pick();
        sent.add(new Sent(key, kind));
        List<ProducerRecord<String, byte[]>> out = new ArrayList<>(2);
        switch (kind) {
            case RANDOM_BYTES -> out.add(record(key, randomBytes(random.nextInt(2048))));
            case TRUNCATED -> {
                byte[] valid = valid(key);
                out.add(record(key, Arrays.copyOf(valid, random.nextInt(valid.length))));
            }
            case OVERSIZED -> {
                oversized[0] = (byte) random.nextInt(256);
                out.add(record(key, oversized.clone()));
            }
            case LENGTH_CLAIM -> {
                byte[] valid = valid(key);
                // version 1, then a request id that claims up to 2^31 - 1 bytes
                byte[] claim = ByteBuffer.allocate(valid.length).put(valid, 0, 5).put((byte) 2)
                        .put(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}).array();
                out.add(record(key, claim));
            }
            case BIT_FLIP -> {
                byte[] flipped = valid(key);
                int bit = random.nextInt(flipped.length * 8);
                flipped[bit / 8] ^= (byte) (1 << (bit % 8));
                out.add(record(key, flipped));
            }
            case UNKNOWN_KEY -> out.add(record(key, sealed.serialize(topic, stranger.seal(key, embed(1)))));
            case UNKNOWN_CLIENT -> out.add(record(key, withClient(key, "ghost-" + random.nextInt(1_000_000))));
            case ILLEGAL_CLIENT -> out.add(record(key, withClient(key, "no such/client " + random.nextInt(100))));
            case CLIENT_SWAP -> out.add(record(key, withClient(key, "acme")));
            case WRONG_TOPIC -> out.add(record(key, avro.serialize(topic, otherTopic.seal(key, embed(1)).toRecord())));
            case HUGE_FIELD -> {
                // a decodable envelope just under 1 MiB, mostly one clear field: its dead letter must shrink
                EncryptedRequest r = EncryptedRequest.newBuilder(current.seal(key, embed(1)).toRecord())
                        .setSessionId("s".repeat(1_030_000)).build();
                out.add(record(key, avro.serialize(topic, r)));
            }
            case REPLAY -> {
                byte[] original = valid(key);
                out.add(record(key, original));
                out.add(record(key, original.clone()));
            }
            case EXPIRED -> out.add(sealedBy(expired, key, embed(1)));
            case FUTURE -> out.add(sealedBy(future, key, embed(1)));
            case TOO_MANY_TEXTS -> out.add(sealedBy(current, key, embed(3000)));
            default -> throw new IllegalStateException("kind " + kind);
        }
        return out;
    }

    /** The session that sealed request {@code requestId}, to open its answer; null for unsealed kinds. */
    ClientSession sessionFor(String requestId) {
        return sessionByRequest.get(requestId);
    }

    String clientId() {
        return clientId;
    }

    private Kind pick() {
        // records of 1 MB are rare, so a 10,000-record run stays small on the broker
        if (random.nextInt(250) == 0) {
            return random.nextBoolean() ? Kind.OVERSIZED : Kind.HUGE_FIELD;
        }
        Kind[] kinds = Arrays.stream(Kind.values()).filter(k -> k != Kind.OVERSIZED && k != Kind.HUGE_FIELD)
                .toArray(Kind[]::new);
        return kinds[random.nextInt(kinds.length)];
    }

    private byte[] valid(String requestId) {
        sessionByRequest.put(requestId, current);
        return sealed.serialize(topic, current.seal(requestId, embed(1)));
    }

    private ProducerRecord<String, byte[]> sealedBy(ClientSession session, String requestId, InferenceRequest r) {
        sessionByRequest.put(requestId, session);
        return record(requestId, sealed.serialize(topic, session.seal(requestId, r)));
    }

    private byte[] withClient(String requestId, String client) {
        EncryptedRequest r = EncryptedRequest.newBuilder(current.seal(requestId, embed(1)).toRecord())
                .setClientId(client).setResponseTopic("sealstream.responses." + client).build();
        return avro.serialize(topic, r);
    }

    private InferenceRequest embed(int texts) {
        return InferenceRequest.newBuilder().setModel(model).setTask(new EmbeddingsInput(
                IntStream.range(0, texts).mapToObj(t -> CANARY + " " + t).toList())).build();
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private ProducerRecord<String, byte[]> record(String key, byte[] value) {
        return new ProducerRecord<>(topic, key, value);
    }
}
