package io.sealstream.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The SDK's listener survives anything on its response topic, and fails loudly if it stops anyway. */
@EmbeddedStack
class ResponseListenerTest {

    @Test
    void hostileRecordsOnTheResponseTopicAreSkippedAndGenuineOnesStillArrive(EmbeddedKafka kafka,
                                                                             SchemaRegistryServer server) throws Exception {
        String topic = "sealstream.responses.listener-hostile";
        kafka.createTopics(1, List.of(topic), Map.of("max.message.bytes", Integer.toString(8 << 20)));
        SchemaRegistryClient registry = new SchemaRegistryClient(server.url(), Duration.ofSeconds(10));
        List<String> received = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> genuineArrived = new CompletableFuture<>();
        CompletableFuture<RuntimeException> stopped = new CompletableFuture<>();
        try (ResponseListener<EncryptedResponse> listener = new ResponseListener<>(kafka.bootstrapServers(), topic,
                new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry), kafka.adminClientConfig(),
                r -> {
                    received.add(r.getRequestId());
                    genuineArrived.complete(null);
                }, stopped::complete)) {
            listener.start(Duration.ofSeconds(30));
            byte[] genuine = new ConfluentAvroSerializer<EncryptedResponse>(registry, true).serialize(topic, response("r-1"));
            byte[] lengthClaim = ByteBuffer.allocate(12).put(genuine, 0, 5).put((byte) 2)
                    .put(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}).put((byte) 'x').array();
            byte[] oversized = new byte[5 << 20];
            new Random(3).nextBytes(oversized);
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(with(kafka.adminClientConfig(),
                    ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20), new StringSerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(topic, "junk", "not an envelope".getBytes())).get();
                producer.send(new ProducerRecord<>(topic, "claim", lengthClaim)).get();
                producer.send(new ProducerRecord<>(topic, "huge", oversized)).get();
                producer.send(new ProducerRecord<>(topic, "null", null)).get();
                producer.send(new ProducerRecord<>(topic, "r-1", genuine)).get();
            }

            // the genuine answer was sent last: when it arrives, every hostile record before it was read
            genuineArrived.get(30, TimeUnit.SECONDS);
            assertThat(received).containsExactly("r-1");
            assertThat(listener.failure()).isNull();
            assertThat(stopped).isNotDone();
        }
    }

    @Test
    void aListenerThatStopsAnywayReportsResponsesUnavailableAtOnce(EmbeddedKafka kafka, SchemaRegistryServer server)
            throws Exception {
        String topic = "sealstream.responses.listener-dies";
        kafka.createTopics(1, List.of(topic));
        SchemaRegistryClient registry = new SchemaRegistryClient(server.url(), Duration.ofSeconds(10));
        CompletableFuture<RuntimeException> stopped = new CompletableFuture<>();
        try (ResponseListener<EncryptedResponse> listener = new ResponseListener<>(kafka.bootstrapServers(), topic,
                new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry), kafka.adminClientConfig(),
                r -> {
                    throw new StackOverflowError("a bug in the sink");
                }, stopped::complete)) {
            listener.start(Duration.ofSeconds(30));
            byte[] genuine = new ConfluentAvroSerializer<EncryptedResponse>(registry, true).serialize(topic, response("r-2"));
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.adminClientConfig(), new StringSerializer(),
                    new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(topic, "r-2", genuine)).get();
            }

            RuntimeException why = stopped.get(30, TimeUnit.SECONDS);
            assertThat(why).isInstanceOf(ResponsesUnavailableException.class)
                    .hasMessageContaining(topic).hasMessageContaining("build a new one");
            assertThat(listener.failure()).isSameAs(why);
        }
    }

    private static EncryptedResponse response(String requestId) {
        return EncryptedResponse.newBuilder().setVersion(1).setRequestId(requestId).setClientId("c").setSessionId("s")
                .setStatus(ResponseStatus.OK).setCreatedAt(Instant.now()).setNonce(ByteBuffer.allocate(12))
                .setCiphertext(ByteBuffer.allocate(32)).build();
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> c = new java.util.HashMap<>(base);
        c.put(key, value);
        return c;
    }
}
