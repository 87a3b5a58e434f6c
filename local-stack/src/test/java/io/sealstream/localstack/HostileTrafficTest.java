package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.streams.DeadLetters;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.worker.TeeWorker;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requests that once stalled partitions, through the real stack (broker, registry, key broker, two
 * workers with the default int8 MiniLM engine): each ends in an answer, an encrypted error or one
 * bounded dead letter, and no stream thread is ever replaced.
 */
@WithLocalStack(streamThreadsNeverFail = true)
class HostileTrafficTest {
    private static LocalStack stack;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(2).partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(50)).engine(Engines::defaultEmbeddings);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
    }

    @Test
    void anHonestRequestWithAThousandTextsIsAnsweredAndOrdinaryRequestsKeepFlowing() throws Exception {
        String model = stack.engine().models().iterator().next();
        List<String> thousand = IntStream.range(0, 1000).mapToObj(i -> "short text number " + i).toList();
        try (SealstreamClient acme = stack.client("acme")) {
            CompletableFuture<EmbeddingResult> big = acme.embeddings().create(model, thousand);
            List<CompletableFuture<EmbeddingResult>> ordinary = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                ordinary.add(acme.embeddings().create(model, List.of("ordinary " + i)));
            }

            assertThat(big.get(120, TimeUnit.SECONDS).embeddings()).hasSize(1000);
            for (CompletableFuture<EmbeddingResult> f : ordinary) {
                assertThat(f.get(60, TimeUnit.SECONDS).embeddings()).hasSize(1);
            }
        }
    }

    @Test
    void aClientProvisionedWhileTheWorkersRunIsServedOnceTheyFindItsTopic() throws Exception {
        String model = stack.engine().models().iterator().next();
        // provisioning creates sealstream.requests.late after the workers subscribed; they find it
        // within the topic discovery interval (10 s) plus a rebalance
        try (SealstreamClient late = stack.clientBuilder("late").requestTimeout(Duration.ofSeconds(90)).build()) {
            EmbeddingResult r = late.embeddings().createBlocking(model, List.of("a text from a new client"));

            assertThat(r.embeddings()).hasSize(1);
        }
        assertThat(CommittedRecords.answerCounts(stack, "sealstream.responses.late").values()).containsExactly(1);
    }

    @Test
    void theSdkRefusesMoreTextsThanARequestTakesBeforeSending() {
        String model = stack.engine().models().iterator().next();
        List<String> tooMany = IntStream.range(0, 3000).mapToObj(i -> "t" + i).toList();
        try (SealstreamClient acme = stack.client("acme")) {
            IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
                    () -> acme.embeddings().create(model, tooMany));

            assertThat(e).hasMessageContaining("at most 2048").hasMessageContaining("3000");
            assertThat(acme.stats().sent()).isZero();
        }
    }

    @Test
    void aWorkerRefusesMoreTextsThanARequestTakesWithAnEncryptedRequestTooLarge() throws Exception {
        String model = stack.engine().models().iterator().next();
        InferenceRequest tooMany = InferenceRequest.newBuilder().setModel(model)
                .setTask(new EmbeddingsInput(IntStream.range(0, 3000).mapToObj(i -> "t" + i).toList())).build();
        try (SealstreamClient acme = stack.client("acme")) {
            ExecutionException e = catchThrowableOfType(ExecutionException.class,
                    () -> acme.send("too-many", tooMany, Duration.ofSeconds(60)).get(90, TimeUnit.SECONDS));

            assertThat(e.getCause()).isInstanceOf(RequestRejectedException.class);
            RequestRejectedException rejected = (RequestRejectedException) e.getCause();
            assertThat(rejected.code()).isEqualTo("request_too_large");
            assertThat(rejected.detail()).contains("2048");
        }
    }

    @Test
    void recordsNoWorkerCanAnswerAreDeadLetteredOnceEachAndTheWorkersKeepServing() throws Exception {
        String topic = stack.requestTopicOf("acme");
        // a request topic created without provisioning the client: no response topic exists
        String ghostTopic = stack.requestTopicOf("ghost");
        stack.kafka().createTopics(2, List.of(ghostTopic));
        ConfluentAvroSerializer<EncryptedRequest> avro = new ConfluentAvroSerializer<>(
                new SchemaRegistryClient(stack.registry().url(), Duration.ofSeconds(10)), true);
        byte[] ghost = avro.serialize(ghostTopic, envelopeFrom("ghost"));
        byte[] posing = avro.serialize(topic, envelopeFrom("globex"));
        byte[] illegal = avro.serialize(topic, envelopeFrom("no/such client"));
        // version 1, then a request id that claims 2^31 - 1 bytes in a record of a dozen
        byte[] claim = ByteBuffer.allocate(12).put(ghost, 0, 5).put((byte) 2)
                .put(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}).put((byte) 'x').array();
        byte[] nearlyOneMib = new byte[1_046_000];
        new Random(42).nextBytes(nearlyOneMib);

        // the operator's mistake: only the admin principal can write a topic no client owns
        try (KafkaProducer<String, byte[]> operator = new KafkaProducer<>(stack.kafka().adminClientConfig(),
                new StringSerializer(), new ByteArraySerializer())) {
            operator.send(new ProducerRecord<>(ghostTopic, "hostile-ghost", ghost)).get();
        }
        // acme, hostile, on the one topic its ACLs let it write
        Map<String, Object> asAcme = new java.util.HashMap<>(stack.kafkaClientConfig("acme"));
        asAcme.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 << 20);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(asAcme, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "hostile-posing", posing)).get();
            producer.send(new ProducerRecord<>(topic, "hostile-illegal", illegal)).get();
            producer.send(new ProducerRecord<>(topic, "hostile-claim", claim)).get();
            producer.send(new ProducerRecord<>(topic, "hostile-huge", nearlyOneMib)).get();
        }
        String model = stack.engine().models().iterator().next();
        try (SealstreamClient acme = stack.client("acme")) {
            assertThat(acme.embeddings().createBlocking(model, List.of("still served")).embeddings()).hasSize(1);
        }

        // the ghost topic appeared after the workers started: found within the topic discovery interval
        Map<String, ConsumerRecord<String, byte[]>> dead = deadLettersByKey("hostile-ghost", "hostile-posing",
                "hostile-illegal", "hostile-claim", "hostile-huge");
        assertThat(reason(dead.get("hostile-ghost"))).isEqualTo("unknown_client");
        assertThat(reason(dead.get("hostile-posing"))).isEqualTo("client_mismatch");
        assertThat(reason(dead.get("hostile-illegal"))).isEqualTo("client_mismatch");
        assertThat(reason(dead.get("hostile-claim"))).isEqualTo("malformed");
        ConsumerRecord<String, byte[]> huge = dead.get("hostile-huge");
        assertThat(reason(huge)).isEqualTo("malformed");
        assertThat(huge.value()).isEmpty();
        assertThat(header(huge, DeadLetters.ORIGINAL_SIZE_HEADER)).isEqualTo("1046000");
        for (TeeWorker w : stack.workers()) {
            assertThat(w.streamThreadReplacements()).isZero();
        }
    }

    /** A decodable envelope for {@code clientId} whose cryptographic fields are random. */
    private static EncryptedRequest envelopeFrom(String clientId) {
        Random random = new Random(clientId.hashCode());
        byte[] dek = new byte[97];
        byte[] nonce = new byte[12];
        byte[] ciphertext = new byte[64];
        random.nextBytes(dek);
        random.nextBytes(nonce);
        random.nextBytes(ciphertext);
        return EncryptedRequest.newBuilder().setVersion(1).setRequestId("req-" + clientId.length())
                .setClientId(clientId).setResponseTopic("sealstream.responses." + clientId).setSessionId("s")
                .setKeyId(1).setCreatedAt(Instant.now()).setWrappedDek(ByteBuffer.wrap(dek))
                .setNonce(ByteBuffer.wrap(nonce)).setCiphertext(ByteBuffer.wrap(ciphertext)).build();
    }

    /** The dead letters with these keys; each key must appear exactly once. */
    private static Map<String, ConsumerRecord<String, byte[]>> deadLettersByKey(String... keys) {
        Map<String, ConsumerRecord<String, byte[]>> byKey = new java.util.HashMap<>();
        List<String> wanted = List.of(keys);
        CommittedRecords.readUntil(stack, List.of(StreamProcessorConfig.DEFAULT_DLQ_TOPIC), r -> {
            if (wanted.contains(r.key())) {
                assertThat(byKey.put(r.key(), r)).as("one dead letter for " + r.key()).isNull();
            }
        }, () -> byKey.size() == keys.length, Duration.ofSeconds(60));
        assertThat(byKey).containsOnlyKeys(keys);
        return byKey;
    }

    private static String reason(ConsumerRecord<String, byte[]> r) {
        return header(r, DeadLetters.REASON_HEADER);
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
