package io.sealstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.OpenedResponse;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.SealedRequest;
import io.sealstream.envelope.SealedRequestSerializer;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import io.sealstream.schemas.v1.Usage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The topology with real envelope crypto and a real registry, driven by TopologyTestDriver. */
@EmbeddedStack
class InferenceTopologyTest {
    /** The request topic family: the keyset's name; acme sends to {@link #ACME_TOPIC}. */
    private static final String TOPIC = "sealstream.requests";
    private static final String ACME_TOPIC = "sealstream.requests.acme";
    private static final String CANARY = "CANARY-topology-5b1d";
    private static final Duration LINGER = Duration.ofMillis(200);

    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
    private final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    private static final int ONE_MIB = 1 << 20;
    private final Map<String, Integer> topicLimits = new ConcurrentHashMap<>();
    private SchemaRegistryClient registry;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> requests;
    private SealedRequestSerializer serializer;
    private Path stateDir;
    private volatile BatchHandler handler = this::lengthsOfFirstInput;

    @BeforeEach
    void setUp(SchemaRegistryServer server) throws Exception {
        registry = new SchemaRegistryClient(server.url(), Duration.ofSeconds(10));
        serializer = new SealedRequestSerializer(registry, true);
        stateDir = Files.createTempDirectory("topology-test-");
        topicLimits.put(StreamProcessorConfig.DEFAULT_DLQ_TOPIC, ONE_MIB);
        topicLimits.put("sealstream.responses.acme", ONE_MIB);
        topicLimits.put("sealstream.responses.globex", ONE_MIB);
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .batchLinger(LINGER).build(), RequestOpener.builder().build(keyset));
    }

    /** (Re)starts the driver on {@code config}; the topic limits are read at every send. */
    private void start(StreamProcessorConfig config, RequestOpener opener) {
        start(config, opener, registry);
    }

    private void start(StreamProcessorConfig config, RequestOpener opener, SchemaRegistryClient workerRegistry) {
        start(config, opener, workerRegistry, KeyRefresh.NONE);
    }

    private void start(StreamProcessorConfig config, RequestOpener opener, SchemaRegistryClient workerRegistry,
                       KeyRefresh keys) {
        if (driver != null) {
            driver.close();
        }
        TopicDirectory topics = topic -> topicLimits.containsKey(topic)
                ? OptionalInt.of(topicLimits.get(topic)) : OptionalInt.empty();
        BatchHandler delegating = new BatchHandler() {
            @Override
            public List<InferenceResponse> handle(List<InferenceRequest> batch) throws Exception {
                return handler.handle(batch);
            }

            @Override
            public long cost(InferenceRequest request) {
                return ((EmbeddingsInput) request.getTask()).getInput().size();
            }
        };
        driver = new TopologyTestDriver(InferenceTopology.build(config, opener, EngineBatcher.inline(delegating, config),
                workerRegistry, topics, keys),
                config.streamsProperties(topics));
        requests = driver.createInputTopic(ACME_TOPIC, new StringSerializer(), new ByteArraySerializer());
    }

    @AfterEach
    void tearDown() {
        driver.close();
    }

    @Test
    void aFullBatchIsInferredOnceAndEachAnswerGoesToItsClientsTopic() throws Exception {
        ClientSession acme = session("acme");
        ClientSession globex = session("globex");

        send(acme.seal("a1", embed("one")));
        send(globex.seal("g1", embed("three")));
        send(acme.seal("a2", embed("fives")));
        send(globex.seal("g2", embed("seven!!")));

        assertThat(batchSizes).containsExactly(4);
        assertThat(answers(acme)).extracting(r -> r.requestId() + "=" + firstValue(r)).containsExactly("a1=3.0", "a2=5.0");
        assertThat(answers(globex)).extracting(r -> r.requestId() + "=" + firstValue(r)).containsExactly("g1=5.0", "g2=7.0");
    }

    @Test
    void aPartialBatchWaitsForTheLingerThenFlushes() throws Exception {
        ClientSession acme = session("acme");
        send(acme.seal("a1", embed("x")));

        driver.advanceWallClockTime(LINGER.dividedBy(4));
        assertThat(batchSizes).isEmpty();
        driver.advanceWallClockTime(LINGER);

        assertThat(batchSizes).containsExactly(1);
        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("a1");
    }

    @Test
    void theBufferAndItsChangelogHoldCiphertextOnly() throws Exception {
        ClientSession acme = session("acme");
        send(acme.seal("a1", embed(CANARY)));
        KeyValueStore<String, byte[]> buffer = driver.getKeyValueStore(InferenceTopology.BUFFER_STORE);

        List<byte[]> stored = new ArrayList<>();
        buffer.all().forEachRemaining(kv -> stored.add(kv.value));
        String changelog = "sealstream-worker-" + InferenceTopology.BUFFER_STORE + "-changelog";
        assertThat(driver.producedTopicNames()).contains(changelog);
        driver.createOutputTopic(changelog, new ByteArrayDeserializer(), new ByteArrayDeserializer())
                .readValuesToList().forEach(v -> stored.add(v == null ? new byte[0] : v));

        assertThat(stored).isNotEmpty();
        assertThat(stored).allSatisfy(bytes -> assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).doesNotContain(CANARY));
    }

    @Test
    void aTamperedRequestIsDeadLetteredAndTheRestOfTheBatchIsAnswered() throws Exception {
        ClientSession acme = session("acme");
        SealedRequest good = acme.seal("good", embed("ok"));
        EncryptedRequest tampered = EncryptedRequest.newBuilder(acme.seal("bad", embed(CANARY)).toRecord())
                .setSessionId("another-session").build();
        byte[] tamperedBytes = new io.sealstream.schemas.serde.ConfluentAvroSerializer<EncryptedRequest>(registry, true)
                .serialize(ACME_TOPIC, tampered);

        requests.pipeInput("bad", tamperedBytes);
        send(good);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(dead.key()).isEqualTo("bad");
        assertThat(dead.value()).isEqualTo(tamperedBytes);
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("tampered");
        assertThat(header(dead, DeadLetters.SOURCE_HEADER)).isEqualTo(ACME_TOPIC + "/0@0");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("re-send").doesNotContain(CANARY);
        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("good");
    }

    @Test
    void bytesThatAreNotAnEnvelopeAreDeadLetteredAsMalformed() {
        requests.pipeInput("junk", "not an envelope".getBytes(StandardCharsets.UTF_8));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("malformed");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("Confluent magic byte");
    }

    @Test
    void aRequestSealedToAKeyPublishedSinceTheLastRefreshWaitsForOneRefreshAndIsAnswered() throws Exception {
        TopicKeyset rotated = keyset.rotate(Instant.now());
        RequestOpener opener = RequestOpener.builder().build(keyset);
        RefreshOnDemand keys = new RefreshOnDemand(() -> opener.install(rotated));
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .batchLinger(LINGER).build(), opener, registry, keys);
        ClientSession early = ClientSession.builder(rotated.publicKeys()).clientId("acme").requestTopic(ACME_TOPIC).build();

        send(early.seal("e1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        assertThat(keys.requests).as("a refresh was asked for").isEqualTo(1);
        assertThat(deadLetters().isEmpty()).isTrue();
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(answers(early)).extracting(r -> r.requestId()).containsExactly("e1");
        assertThat(deadLetters().isEmpty()).isTrue();
    }

    @Test
    void aKeyIdStillUnknownAfterARefreshIsDeadLetteredOnce() throws Exception {
        RefreshOnDemand keys = new RefreshOnDemand(() -> { });
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .batchLinger(LINGER).build(), RequestOpener.builder().build(keyset), registry, keys);
        ClientSession stranger = ClientSession.builder(TopicKeyset.generate(TOPIC, Instant.now()).publicKeys())
                .clientId("acme").requestTopic(ACME_TOPIC).build();

        send(stranger.seal("s1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        var dead = deadLetters();
        assertThat(header(dead.readRecord(), DeadLetters.REASON_HEADER)).isEqualTo("unknown_key");
        assertThat(dead.isEmpty()).isTrue();
        assertThat(keys.requests).isEqualTo(1);

        // the same made-up key id again: known to be unknown, dead-lettered at the next flush
        send(stranger.seal("s2", embed("y")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        assertThat(header(dead.readRecord(), DeadLetters.REASON_HEADER)).isEqualTo("unknown_key");
        assertThat(keys.requests).as("no second refresh").isEqualTo(1);
    }

    @Test
    void aWorkerWhoseKeysWereDroppedKeepsRecordsBufferedInsteadOfDeadLetteringThem() throws Exception {
        RequestOpener opener = RequestOpener.builder().build(keyset);
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .batchLinger(LINGER).build(), opener, registry, new RefreshOnDemand(() -> { }));
        opener.clear(); // the lease ended; the worker is leaving the group
        ClientSession acme = session("acme");

        send(acme.seal("kept", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(deadLetters().isEmpty()).isTrue();
        assertThat(answers(acme)).isEmpty();
        opener.install(keyset); // had it kept the partition, keys would open it
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        assertThat(answers(acme)).extracting(r -> r.requestId()).containsExactly("kept");
    }

    /** A key refresh that runs {@code refresh} when asked and then reports itself complete. */
    private static final class RefreshOnDemand implements KeyRefresh {
        private final Runnable refresh;
        int requests;
        private long completedAt;

        RefreshOnDemand(Runnable refresh) {
            this.refresh = refresh;
        }

        @Override
        public void request() {
            requests++;
            refresh.run();
            completedAt = Long.MAX_VALUE;
        }

        @Override
        public long lastSuccessStartedAtMillis() {
            return completedAt;
        }
    }

    @Test
    void aRequestSealedToAKeyTheTopicNeverHadIsDeadLetteredAsUnknownKey() throws Exception {
        ClientSession stranger = ClientSession.builder(TopicKeyset.generate(TOPIC, Instant.now()).publicKeys())
                .clientId("acme").requestTopic(ACME_TOPIC).build();
        send(stranger.seal("s1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(header(deadLetters().readRecord(), DeadLetters.REASON_HEADER)).isEqualTo("unknown_key");
    }

    @Test
    void aRequestTheEngineFailsOnGetsAnErrorAnswerAndTheOthersAreServed() throws Exception {
        handler = batch -> {
            for (InferenceRequest r : batch) {
                if (((EmbeddingsInput) r.getTask()).getInput().get(0).contains("POISON")) {
                    throw new IllegalStateException("engine crashed on " + r);
                }
            }
            return lengthsOfFirstInput(batch);
        };
        ClientSession acme = session("acme");
        send(acme.seal("ok-1", embed("fine")));
        send(acme.seal("poison", embed("POISON " + CANARY)));
        send(acme.seal("ok-2", embed("also fine")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        List<OpenedResponse> answers = answers(acme);
        assertThat(answers).extracting(r -> r.requestId() + ":" + r.status())
                .containsExactly("ok-1:OK", "poison:ERROR", "ok-2:OK");
        assertThat(answers.get(1).body().getError().getCode()).isEqualTo("engine_failure");
        assertThat(answers.get(1).body().getError().getMessage())
                .contains("IllegalStateException").doesNotContain(CANARY).doesNotContain("POISON");
    }

    @Test
    void aHandlerThatReturnsTheWrongNumberOfResultsIsRetriedOneByOne() throws Exception {
        handler = batch -> batch.size() > 1 ? List.of() : lengthsOfFirstInput(batch);
        ClientSession acme = session("acme");
        send(acme.seal("a1", embed("ab")));
        send(acme.seal("a2", embed("abc")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(answers(acme)).extracting(r -> r.requestId() + "=" + firstValue(r)).containsExactly("a1=2.0", "a2=3.0");
    }

    @Test
    void anExpiredRequestGetsAnEncryptedExpiredAnswer() throws Exception {
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(1).build(),
                RequestOpener.builder().maxRequestAge(Duration.ofMillis(1)).build(keyset));
        ClientSession acme = session("acme");
        SealedRequest old = acme.seal("old", embed("x"));
        Thread.sleep(5);

        send(old);

        OpenedResponse answer = answers(acme).get(0);
        assertThat(answer.status()).isEqualTo(ResponseStatus.ERROR);
        assertThat(answer.body().getError().getCode()).isEqualTo("expired");
        assertThat(batchSizes).isEmpty();
    }

    @Test
    void aRequestAskingForAnotherClientsTopicIsAnsweredWithAnErrorOnItsOwnTopic() throws Exception {
        ClientSession sneaky = ClientSession.builder(keyset.publicKeys()).clientId("acme").requestTopic(ACME_TOPIC)
                .responseTopic("sealstream.responses.globex").build();
        send(sneaky.seal("s1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        List<EncryptedResponse> onAcme = responses("acme").readValuesToList();
        assertThat(onAcme).hasSize(1);
        assertThat(onAcme.get(0).getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(driver.producedTopicNames()).doesNotContain("sealstream.responses.globex");
        assertThat(batchSizes).isEmpty();
    }


    // ---- every record ends in exactly one way, whatever it carries ----

    @Test
    void aRequestFromAClientWithoutAResponseTopicIsDeadLetteredAsUnknownClientBeforeAnySend() throws Exception {
        ClientSession ghost = session("ghost");
        send(ghost.seal("g1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("unknown_client");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("sealstream.responses.ghost").contains("provision");
        assertThat(driver.producedTopicNames()).doesNotContain("sealstream.responses.ghost");
        assertThat(batchSizes).isEmpty();
        assertThat(bufferSize()).isZero();
    }

    @Test
    void anEnvelopeNamingAnotherClientThanItsTopicIsDeadLetteredAsClientMismatch() throws Exception {
        // mallory seals a valid envelope under acme's client id and writes it to its own topic
        ClientSession posingAsAcme = ClientSession.builder(keyset.publicKeys()).clientId("acme")
                .requestTopic("sealstream.requests.mallory").build();
        topicLimits.put("sealstream.responses.mallory", ONE_MIB);
        send(posingAsAcme.seal("m1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("client_mismatch");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("sealstream.requests.mallory");
        assertThat(responses("acme").isEmpty()).isTrue();
        assertThat(batchSizes).isEmpty();
    }

    @Test
    void anEnvelopeWithAClientIdThatIsNoTopicNameIsDeadLetteredAsClientMismatch() throws Exception {
        EncryptedRequest odd = EncryptedRequest.newBuilder(session("acme").seal("i1", embed("x")).toRecord())
                .setClientId("a/b c").build();
        requests.pipeInput("i1", new io.sealstream.schemas.serde.ConfluentAvroSerializer<EncryptedRequest>(registry, true)
                .serialize(ACME_TOPIC, odd));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(header(deadLetters().readRecord(), DeadLetters.REASON_HEADER)).isEqualTo("client_mismatch");
        assertThat(batchSizes).isEmpty();
    }

    @Test
    void anAnswerTooLargeForItsTopicBecomesAnEncryptedResponseTooLargeError() throws Exception {
        topicLimits.put("sealstream.responses.acme", 600);
        handler = batch -> batch.stream().map(r -> vectorOf(r, 1000)).toList();
        ClientSession acme = session("acme");
        send(acme.seal("big", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        OpenedResponse answer = answers(acme).get(0);
        assertThat(answer.requestId()).isEqualTo("big");
        assertThat(answer.body().getError().getCode()).isEqualTo("response_too_large");
        assertThat(answer.body().getError().getMessage()).contains("at most 600");
        assertThat(deadLetters().isEmpty()).isTrue();
    }

    @Test
    void aRequestThatAloneCostsMoreThanABatchIsRefusedAsRequestTooLargeBeforeInference() throws Exception {
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .maxBatchCost(10).batchLinger(LINGER).build(), RequestOpener.builder().build(keyset));
        ClientSession acme = session("acme");
        send(acme.seal("huge", embed(java.util.Collections.nCopies(11, "t").toArray(String[]::new))));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        OpenedResponse answer = answers(acme).get(0);
        assertThat(answer.body().getError().getCode()).isEqualTo("request_too_large");
        assertThat(answer.body().getError().getMessage()).contains("needs 11").contains("at most 10");
        assertThat(batchSizes).isEmpty();
    }

    @Test
    void moreEmbeddingTextsThanTheContractAllowsAreRefusedAsRequestTooLarge() throws Exception {
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .maxBatchCost(1_000_000).batchLinger(LINGER).build(), RequestOpener.builder().build(keyset));
        ClientSession acme = session("acme");
        send(acme.seal("many", embed(java.util.Collections.nCopies(2049, "t").toArray(String[]::new))));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        OpenedResponse answer = answers(acme).get(0);
        assertThat(answer.body().getError().getCode()).isEqualTo("request_too_large");
        assertThat(answer.body().getError().getMessage()).contains("2049 texts").contains("at most 2048");
        assertThat(batchSizes).isEmpty();
    }

    @Test
    void aBatchStopsAtItsCostAndTheRestIsInferredAtTheNextTick() throws Exception {
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .maxBatchCost(10).batchLinger(LINGER).build(), RequestOpener.builder().build(keyset));
        ClientSession acme = session("acme");
        for (int i = 0; i < 4; i++) {
            send(acme.seal("r" + i, embed("aaaa", "bbbb", "cccc", "dddd")));
        }
        assertThat(batchSizes).containsExactly(2);
        driver.advanceWallClockTime(LINGER);

        assertThat(batchSizes).containsExactly(2, 2);
        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("r0", "r1", "r2", "r3");
        assertThat(bufferSize()).isZero();
    }

    @Test
    void recordsOfAllClientsInATaskAreBatchedInArrivalOrderNotByTopicName() throws Exception {
        start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                .maxBatchCost(2).batchLinger(LINGER).build(), RequestOpener.builder().build(keyset));
        topicLimits.put("sealstream.responses.aaa", ONE_MIB);
        topicLimits.put("sealstream.responses.zzz", ONE_MIB);
        List<String> order = new CopyOnWriteArrayList<>();
        handler = batch -> {
            batch.forEach(r -> order.add(((EmbeddingsInput) r.getTask()).getInput().get(0)));
            return lengthsOfFirstInput(batch);
        };
        ClientSession zzz = session("zzz");
        ClientSession aaa = session("aaa");
        send(zzz.seal("z0", embed("zzz-first")));
        send(aaa.seal("a1", embed("aaa-1")));
        send(aaa.seal("a2", embed("aaa-2")));
        send(aaa.seal("a3", embed("aaa-3")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(batchSizes).containsExactly(2, 2);
        assertThat(order).containsExactly("zzz-first", "aaa-1", "aaa-2", "aaa-3");
    }

    @Test
    void aReplayedRequestIsDeadLetteredAsReplayedAndAnsweredOnlyOnce() throws Exception {
        ClientSession acme = session("acme");
        byte[] bytes = serializer.serialize(ACME_TOPIC, acme.seal("once", embed("x")));
        requests.pipeInput("once", bytes);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        requests.pipeInput("once", bytes); // a later replay
        requests.pipeInput("once", bytes); // and two copies in one batch
        requests.pipeInput("once", bytes);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("once");
        List<TestRecord<String, byte[]>> dead = deadLetters().readRecordsToList();
        assertThat(dead).hasSize(3).allSatisfy(d -> assertThat(header(d, DeadLetters.REASON_HEADER)).isEqualTo("replayed"));
        assertThat(batchSizes).containsExactly(1);
    }

    @Test
    void aReplayReEncodedWithOverLongVarintsIsStillRecognised() throws Exception {
        ClientSession acme = session("acme");
        byte[] bytes = serializer.serialize(ACME_TOPIC, acme.seal("once", embed("x")));
        // version 1 is the varint 0x02 after the 5-byte header; 0x82 0x00 also decodes to 1
        byte[] reEncoded = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, reEncoded, 0, 5);
        reEncoded[5] = (byte) 0x82;
        reEncoded[6] = 0x00;
        System.arraycopy(bytes, 6, reEncoded, 7, bytes.length - 6);
        requests.pipeInput("once", bytes);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));
        requests.pipeInput("once", reEncoded);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("once");
        assertThat(header(deadLetters().readRecord(), DeadLetters.REASON_HEADER)).isEqualTo("replayed");
    }

    @Test
    void aDeadLetterLargerThanTheDlqTakesCarriesTheOriginalsSizeAndDigestInstead() throws Exception {
        topicLimits.put(StreamProcessorConfig.DEFAULT_DLQ_TOPIC, 100);
        byte[] junk = new byte[5000];
        new java.util.Random(7).nextBytes(junk);
        junk[0] = 1;
        String longKey = "k".repeat(10_000);
        requests.pipeInput(longKey, junk);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(dead.value()).isEmpty();
        assertThat(header(dead, DeadLetters.ORIGINAL_SIZE_HEADER)).isEqualTo("5000");
        assertThat(header(dead, DeadLetters.ORIGINAL_SHA256_HEADER)).isEqualTo(java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(junk)));
        assertThat(dead.key()).startsWith("sha256:").hasSize(7 + 64);
    }

    @Test
    void lengthClaimsBeyondTheBytesPresentAreMalformed() throws Exception {
        ClientSession acme = session("acme");
        byte[] valid = serializer.serialize(ACME_TOPIC, acme.seal("v", embed("x")));
        // the first field after the 5-byte header is version (int), then request_id (string):
        // claim a 2^30-byte request id in a record of a few hundred bytes
        byte[] hostile = java.util.Arrays.copyOf(valid, valid.length);
        hostile[6] = (byte) 0x80;
        byte[] claim = {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
        byte[] out = new byte[7 + claim.length + 10];
        System.arraycopy(hostile, 0, out, 0, 6);
        System.arraycopy(claim, 0, out, 6, claim.length);
        requests.pipeInput("claim", out);
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("malformed");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("claims");
    }

    @Test
    void aRecursiveWriterSchemaSomeoneRegisteredIsRefusedWithoutWalkingItsRecords() throws Exception {
        org.apache.avro.Schema recursive = new org.apache.avro.Schema.Parser().parse("{\"type\":\"record\","
                + "\"name\":\"EncryptedRequest\",\"namespace\":\"io.sealstream.schemas.v1\",\"fields\":["
                + "{\"name\":\"next\",\"type\":[\"null\",\"EncryptedRequest\"]}]}");
        int id = registry.register("attacker-subject-value", recursive);
        // 200,000 levels of "branch 1", one byte each, then null
        byte[] deep = new byte[5 + 200_001];
        java.nio.ByteBuffer.wrap(deep).put((byte) 0).putInt(id);
        java.util.Arrays.fill(deep, 5, deep.length - 1, (byte) 2);
        requests.pipeInput("deep", deep);
        ClientSession acme = session("acme");
        send(acme.seal("after", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(dead.key()).isEqualTo("deep");
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("malformed");
        assertThat(header(dead, DeadLetters.MESSAGE_HEADER)).contains("contains itself");
        assertThat(answers(acme)).extracting(OpenedResponse::requestId).containsExactly("after");
    }

    @Test
    void aResponseSubjectThatRefusesTheResponseSchemaDeadLettersAsUndeliverableBeforeInference() throws Exception {
        topicLimits.put("sealstream.responses.poisoned", ONE_MIB);
        registry.register("sealstream.responses.poisoned-value", new org.apache.avro.Schema.Parser().parse("\"string\""));
        registry.setCompatibility("sealstream.responses.poisoned-value", "FULL");
        ClientSession poisoned = session("poisoned");
        send(poisoned.seal("p1", embed("x")));
        driver.advanceWallClockTime(LINGER.multipliedBy(2));

        TestRecord<String, byte[]> dead = deadLetters().readRecord();
        assertThat(header(dead, DeadLetters.REASON_HEADER)).isEqualTo("undeliverable");
        assertThat(batchSizes).isEmpty();
        assertThat(bufferSize()).isZero();
    }

    @Test
    void whileTheRegistryIsUnreachableRequestsWaitAndAreAnsweredOnceItReturns(SchemaRegistryServer server)
            throws Exception {
        try (SwitchableProxy proxy = new SwitchableProxy("127.0.0.1", server.port())) {
            String path = java.net.URI.create(server.url()).getPath();
            start(StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(stateDir).maxBatchSize(4)
                    .batchLinger(LINGER).build(), RequestOpener.builder().build(keyset),
                    new SchemaRegistryClient(proxy.url() + path, Duration.ofSeconds(2)));
            ClientSession acme = session("acme");
            proxy.down();
            send(acme.seal("patient", embed("x")));
            driver.advanceWallClockTime(LINGER.multipliedBy(2));

            assertThat(deadLetters().isEmpty()).as("nothing dead-lettered while the registry is away").isTrue();
            assertThat(responses("acme").isEmpty()).isTrue();
            assertThat(bufferSize()).isEqualTo(1);

            proxy.up();
            // each flush asks the registry once; the first may still meet a connection the outage reset
            List<OpenedResponse> answers = new ArrayList<>();
            for (int flush = 0; flush < 3 && answers.isEmpty(); flush++) {
                driver.advanceWallClockTime(LINGER);
                answers.addAll(answers(acme));
            }
            assertThat(answers).extracting(OpenedResponse::requestId).containsExactly("patient");
            assertThat(deadLetters().isEmpty()).isTrue();
            assertThat(bufferSize()).isZero();
        }
    }

    private ClientSession session(String client) {
        return ClientSession.builder(keyset.publicKeys()).clientId(client)
                .requestTopic(io.sealstream.envelope.EnvelopeProtocol.requestTopicFor(TOPIC, client)).build();
    }

    private void send(SealedRequest request) {
        driver.createInputTopic(request.topic(), new StringSerializer(), new ByteArraySerializer())
                .pipeInput(request.requestId(), serializer.serialize(request.topic(), request));
    }

    private static InferenceRequest embed(String... texts) {
        return InferenceRequest.newBuilder().setModel("test-model")
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(texts)).build()).build();
    }

    private static InferenceResponse vectorOf(InferenceRequest r, int dimensions) {
        List<Float> v = java.util.Collections.nCopies(dimensions, 0.5f);
        return InferenceResponse.newBuilder().setModel(r.getModel())
                .setOutput(EmbeddingsResult.newBuilder().setData(List.of(new Embedding(0, v)))
                        .setUsage(new Usage(1, 0, 1)).build())
                .setError(null).build();
    }

    private long bufferSize() {
        KeyValueStore<String, byte[]> buffer = driver.getKeyValueStore(InferenceTopology.BUFFER_STORE);
        return buffer.approximateNumEntries();
    }

    /** A stand-in engine: the "embedding" of a text is its length. */
    private List<InferenceResponse> lengthsOfFirstInput(List<InferenceRequest> batch) {
        batchSizes.add(batch.size());
        List<InferenceResponse> out = new ArrayList<>();
        for (InferenceRequest r : batch) {
            String text = ((EmbeddingsInput) r.getTask()).getInput().get(0);
            out.add(InferenceResponse.newBuilder().setModel(r.getModel())
                    .setOutput(EmbeddingsResult.newBuilder()
                            .setData(List.of(new Embedding(0, List.of((float) text.length()))))
                            .setUsage(new Usage(text.length(), 0, text.length())).build())
                    .setError(null).build());
        }
        return out;
    }

    private TestOutputTopic<String, EncryptedResponse> responses(String client) {
        return driver.createOutputTopic("sealstream.responses." + client, new StringDeserializer(),
                new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry));
    }

    private List<OpenedResponse> answers(ClientSession session) throws Exception {
        List<OpenedResponse> out = new ArrayList<>();
        for (EncryptedResponse r : responses(session.clientId()).readValuesToList()) {
            out.add(session.open(r));
        }
        return out;
    }

    private TestOutputTopic<String, byte[]> deadLetters() {
        return driver.createOutputTopic(StreamProcessorConfig.DEFAULT_DLQ_TOPIC, new StringDeserializer(),
                new ByteArrayDeserializer());
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static String firstValue(OpenedResponse r) {
        return String.valueOf(((EmbeddingsResult) r.body().getOutput()).getData().get(0).getVector().get(0));
    }

}
