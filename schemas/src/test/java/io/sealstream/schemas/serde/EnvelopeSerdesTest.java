package io.sealstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Envelope records through a real broker and a real registry, in the Confluent wire format. */
@EmbeddedStack
class EnvelopeSerdesTest {
    private static final String TOPIC = "serde-test.requests";
    private static SchemaRegistryClient registry;
    private static Serde<EncryptedRequest> requests;

    @BeforeAll
    static void setUp(EmbeddedKafka kafka, SchemaRegistryServer server) {
        kafka.createTopics(1, List.of(TOPIC, "serde-test.responses", "serde-test.evolved"));
        registry = new SchemaRegistryClient(server.url(), Duration.ofSeconds(10));
        requests = EnvelopeSerdes.requests(registry, true);
    }

    @Test
    void aRequestRoundTripsThroughTheBrokerInTheConfluentWireFormat(EmbeddedKafka kafka) throws Exception {
        EncryptedRequest sent = request("r-1");
        try (KafkaProducer<String, EncryptedRequest> producer = new KafkaProducer<>(producerConfig(kafka),
                new StringSerializer(), requests.serializer())) {
            producer.send(new ProducerRecord<>(TOPIC, sent.getRequestId(), sent)).get();
        }

        byte[] raw = consumeOne(kafka, TOPIC);
        int id = registry.idOf(TOPIC + "-value", EncryptedRequest.getClassSchema());

        assertThat(raw[0]).as("magic byte").isZero();
        assertThat(ByteBuffer.wrap(raw, 1, 4).getInt()).as("schema id").isEqualTo(id);
        assertThat(requests.deserializer().deserialize(TOPIC, raw)).isEqualTo(sent);
    }

    @Test
    void aResponseRoundTripsThroughTheSerde() {
        Serde<EncryptedResponse> responses = EnvelopeSerdes.responses(registry, true);
        EncryptedResponse sent = EncryptedResponse.newBuilder()
                .setVersion(1).setRequestId("r-2").setClientId("acme").setSessionId("s")
                .setStatus(ResponseStatus.ERROR).setCreatedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setNonce(ByteBuffer.wrap(new byte[12])).setCiphertext(ByteBuffer.wrap(new byte[20])).build();

        byte[] bytes = responses.serializer().serialize("serde-test.responses", sent);

        assertThat(responses.deserializer().deserialize("serde-test.responses", bytes)).isEqualTo(sent);
    }

    @Test
    void aRecordWrittenWithANewerCompatibleSchemaStillReads() throws Exception {
        Schema newer = withExtraField(EncryptedRequest.getClassSchema());
        int id = registry.register("serde-test.evolved-value", newer);
        GenericRecord record = new GenericData.Record(newer);
        EncryptedRequest current = request("r-3");
        for (Schema.Field f : EncryptedRequest.getClassSchema().getFields()) {
            Object value = current.get(f.pos());
            record.put(f.name(), value instanceof Instant t ? t.toEpochMilli() : value);
        }
        record.put("priority", 7);

        EncryptedRequest read = requests.deserializer().deserialize("serde-test.evolved", wire(id, newer, record));

        assertThat(read).isEqualTo(current);
    }

    @Test
    void bytesWithoutTheMagicByteAreRefused() {
        assertThatThrownBy(() -> requests.deserializer().deserialize(TOPIC, new byte[] {42, 0, 0, 0, 1, 2}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("0x2a")
                .hasMessageContaining("not the Confluent magic byte");
    }

    @Test
    void aRecordShorterThanTheHeaderIsRefused() {
        assertThatThrownBy(() -> requests.deserializer().deserialize(TOPIC, new byte[] {0, 0}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("2 bytes");
    }

    @Test
    void anUnknownSchemaIdIsRefused() {
        assertThatThrownBy(() -> requests.deserializer().deserialize(TOPIC, new byte[] {0, 0, 1, 2, 3, 4}))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("schema id 66051");
    }

    @Test
    void aTruncatedRecordIsRefused() {
        byte[] whole = requests.serializer().serialize(TOPIC, request("r-4"));
        byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 10);

        assertThatThrownBy(() -> requests.deserializer().deserialize(TOPIC, truncated))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("corrupt or truncated");
    }

    @Test
    void trailingBytesAreRefused() {
        byte[] whole = requests.serializer().serialize(TOPIC, request("r-5"));
        byte[] padded = java.util.Arrays.copyOf(whole, whole.length + 3);

        assertThatThrownBy(() -> requests.deserializer().deserialize(TOPIC, padded))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("bytes follow the EncryptedRequest");
    }

    @Test
    void aTopicOfAnotherRecordTypeIsRefused() {
        Serde<EncryptedResponse> responses = EnvelopeSerdes.responses(registry, true);
        byte[] response = responses.serializer().serialize("serde-test.responses", EncryptedResponse.newBuilder()
                .setVersion(1).setRequestId("r").setClientId("c").setSessionId("s").setStatus(ResponseStatus.OK)
                .setCreatedAt(Instant.now()).setNonce(ByteBuffer.allocate(12)).setCiphertext(ByteBuffer.allocate(16))
                .build());

        assertThatThrownBy(() -> requests.deserializer().deserialize("serde-test.responses", response))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("is io.sealstream.schemas.v1.EncryptedResponse");
    }

    @Test
    void withoutAutoRegistrationAnUnregisteredSubjectFailsClearly() {
        Serde<EncryptedRequest> strict = EnvelopeSerdes.requests(registry, false);

        assertThatThrownBy(() -> strict.serializer().serialize("serde-test.unregistered", request("r-6")))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("serde-test.unregistered-value")
                .hasMessageContaining("HTTP 404");
    }

    @Test
    void configurationWithoutARegistryUrlNamesTheKey() {
        ConfluentAvroSerializer<EncryptedRequest> s = new ConfluentAvroSerializer<>();

        assertThatThrownBy(() -> s.configure(Map.of(), false))
                .hasMessageContaining(SerdeConfig.SCHEMA_REGISTRY_URL);
    }

    @Test
    void configurationByPropertiesWorksAsWithConfluentSerializers(SchemaRegistryServer server) {
        ConfluentAvroSerializer<EncryptedRequest> s = new ConfluentAvroSerializer<>();
        ConfluentAvroDeserializer<EncryptedRequest> d = new ConfluentAvroDeserializer<>(EncryptedRequest.class);
        Map<String, Object> config = Map.of(SerdeConfig.SCHEMA_REGISTRY_URL, server.url());
        s.configure(config, false);
        d.configure(config, false);
        EncryptedRequest sent = request("r-7");

        assertThat(d.deserialize(TOPIC, s.serialize(TOPIC, sent))).isEqualTo(sent);
    }

    private static EncryptedRequest request(String id) {
        return EncryptedRequest.newBuilder()
                .setVersion(1).setRequestId(id).setClientId("acme").setResponseTopic("sealstream.responses.acme")
                .setSessionId("session-1").setKeyId(4_000_000_000L)
                .setCreatedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                .setWrappedDek(ByteBuffer.wrap(new byte[] {1, 2, 3}))
                .setNonce(ByteBuffer.wrap(new byte[12]))
                .setCiphertext(ByteBuffer.wrap(new byte[] {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7}))
                .build();
    }

    private static Schema withExtraField(Schema base) {
        List<Schema.Field> fields = new java.util.ArrayList<>();
        for (Schema.Field f : base.getFields()) {
            fields.add(new Schema.Field(f, f.schema()));
        }
        fields.add(new Schema.Field("priority", Schema.create(Schema.Type.INT), "added later", 0));
        return Schema.createRecord(base.getName(), base.getDoc(), base.getNamespace(), false, fields);
    }

    private static byte[] wire(int id, Schema schema, GenericRecord record) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static Map<String, Object> producerConfig(EmbeddedKafka kafka) {
        Map<String, Object> c = new java.util.HashMap<>(kafka.adminClientConfig());
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        return c;
    }

    private static Map<String, Object> consumerConfig(EmbeddedKafka kafka) {
        Map<String, Object> c = new java.util.HashMap<>(kafka.adminClientConfig());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "serde-test");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return c;
    }

    private static byte[] consumeOne(EmbeddedKafka kafka, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerConfig(kafka), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(Set.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    return r.value();
                }
            }
        }
        throw new AssertionError("no record arrived on " + topic + " within 30 s");
    }
}
