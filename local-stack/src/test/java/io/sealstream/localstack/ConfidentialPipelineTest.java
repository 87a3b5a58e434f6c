package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.Similarity;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.metrics.SealstreamMeter;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.streams.DeadLetters;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.engine.EmbeddingEngine;
import io.sealstream.worker.engine.EmbeddingModel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The whole confidential pipeline on the embedded stack: real broker, registry, key broker with
 * simulated SNP evidence, two workers with the real MiniLM engine, two clients.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@WithLocalStack
class ConfidentialPipelineTest {
    private static final String CANARY = "CANARY-e2e-7d41c0-secret-diagnosis";
    private static final int PER_CLIENT = 200;
    private static LogCapture logs;
    private static LocalStack stack;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        logs = new LogCapture();
        return new LocalStack.Options().workers(2).partitions(4).clients(List.of("acme", "globex"))
                .maxBatchSize(16).batchLinger(Duration.ofMillis(50))
                // fp32: batching does not move its vectors, so "equal to the engine" can be strict
                // (the int8 default shifts them slightly with batch composition: docs/engines.md)
                .engine(() -> EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2));
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
    }

    @AfterAll
    static void stopStack() {
        if (logs != null) {
            logs.close();
        }
    }

    @Test
    @Order(1)
    void twoClientsGetEveryAnswerExactlyOnceOnTheirOwnTopicEqualToTheEngine() throws Exception {
        String model = stack.engine().models().iterator().next();
        Map<String, List<String>> sentIds = new HashMap<>();
        Map<String, String> textById = new HashMap<>();
        List<CompletableFuture<EmbeddingResult>> futures = new ArrayList<>();
        try (SealstreamClient acme = stack.client("acme"); SealstreamClient globex = stack.client("globex")) {
            for (SealstreamClient c : List.of(acme, globex)) {
                for (int i = 0; i < PER_CLIENT; i++) {
                    String id = c.clientId() + "-" + i;
                    String text = c.clientId() + " note " + i + ": " + CANARY + " patient reports symptom " + (i % 17);
                    textById.put(id, text);
                    sentIds.computeIfAbsent(c.clientId(), k -> new ArrayList<>()).add(id);
                    futures.add(c.embeddings().create(id, model, List.of(text)));
                }
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();

            for (CompletableFuture<EmbeddingResult> f : futures) {
                EmbeddingResult r = f.get();
                float[] direct = directEmbedding(model, textById.get(r.requestId()));
                assertThat(Similarity.cosine(r.embeddings().get(0), direct)).as(r.requestId()).isGreaterThan(0.999);
            }
            assertThat(acme.stats().answered()).isEqualTo(PER_CLIENT);
            assertThat(globex.stats().answered()).isEqualTo(PER_CLIENT);
        }
        for (String client : List.of("acme", "globex")) {
            Map<String, Integer> counts = CommittedRecords.answerCounts(stack, EnvelopeProtocol.responseTopicFor(client));
            assertThat(counts.keySet()).as("answers on %s", client).containsExactlyInAnyOrderElementsOf(sentIds.get(client));
            assertThat(counts.values()).as("each answered once").allMatch(n -> n == 1);
        }
    }

    @Test
    @Order(2)
    void anAnswerNamesTheAttestedWorkerAndModelThatProducedItAndTheLogProvesTheLease() throws Exception {
        String model = stack.engine().models().iterator().next();
        try (SealstreamClient globex = stack.client("globex")) {
            EmbeddingResult result = globex.embeddings().createBlocking(model, List.of("where did this come from"));

            io.sealstream.client.AnswerProvenance p = result.provenance().orElseThrow();
            assertThat(p.inLog()).isTrue();
            assertThat(p.tee()).isEqualTo("snp");
            assertThat(p.measurement()).isEqualTo(java.util.HexFormat.of().formatHex(LocalStack.WORKER_MEASUREMENT));
            assertThat(p.modelDigest()).isEqualTo(java.util.HexFormat.of().formatHex(stack.engine().modelDigest()));
            assertThat(globex.stats().unprovenAnswers()).isZero();
        }
    }

    @Test
    @Order(2)
    void aTamperedRequestGetsNoAnswerAndTheWorkersKeepServing() throws Exception {
        String model = stack.engine().models().iterator().next();
        try (SealstreamClient acme = stack.client("acme")) {
            EmbeddingResult before = acme.embeddings().createBlocking(model, List.of("before " + CANARY));
            injectTamperedCopy("acme", before.requestId());

            EmbeddingResult after = acme.embeddings().createBlocking(model, List.of("after"));

            assertThat(after.embeddings()).hasSize(1);
        }
        List<ConsumerRecord<String, byte[]>> dead = CommittedRecords.readAll(stack, StreamProcessorConfig.DEFAULT_DLQ_TOPIC);
        assertThat(dead).anySatisfy(r -> assertThat(new String(r.headers().lastHeader(DeadLetters.REASON_HEADER).value(),
                StandardCharsets.UTF_8)).isEqualTo("tampered"));
    }

    @Test
    @Order(3)
    void aWorkerWhoseMeasurementIsNotInThePolicyGetsNoKeys() {
        WorkerRefusedException refused = catchThrowableOfType(WorkerRefusedException.class,
                () -> stack.startWorker("rogue", LocalStack.sha384("a build nobody approved")));

        assertThat(refused.refusal().status()).isEqualTo(403);
        assertThat(refused.refusal().code()).isEqualTo("unknown_measurement");
        assertThat(stack.workers()).extracting(w -> w.healthUrl()).hasSize(2);
    }

    @Test
    @Order(4)
    void theCanaryNeverReachesATopicADiskOrALog() throws Exception {
        CanaryScan scan = new CanaryScan(CANARY).topics(stack.kafka()).files(stack.dataDir())
                .text("captured log output", logs.text());

        assertThat(scan.recordsScanned()).isGreaterThan(2 * PER_CLIENT);
        assertThat(scan.filesScanned()).isPositive();
        assertThat(logs.events()).isPositive();
        assertThat(scan.findings()).isEmpty();
    }

    @Test
    @Order(5)
    void everyWorkerAndKeyBrokerMeterOfTheCatalogueIsInTheirScrapes() throws Exception {
        List<MetricsScrape> workers = workerScrapes();
        MetricsScrape broker = MetricsScrape.of(stack.keyBroker().metricsUrl());

        for (SealstreamMeter meter : SealstreamMeter.values()) {
            if (meter.component() == SealstreamMeter.Component.WORKER) {
                assertThat(workers).as("%s in a worker's scrape", meter).allMatch(w -> w.has(meter));
            } else if (meter.component() == SealstreamMeter.Component.KEY_BROKER) {
                assertThat(broker.has(meter)).as("%s in the key broker's scrape", meter).isTrue();
            }
        }
    }

    @Test
    @Order(6)
    void theScrapesCountTheRunsAnswersDeadLettersAndAttestations() throws Exception {
        String requests = SealstreamMeter.WORKER_REQUESTS.prometheusName();
        List<MetricsScrape> workers = workerScrapes();
        MetricsScrape broker = MetricsScrape.of(stack.keyBroker().metricsUrl());

        double answered = workers.stream().mapToDouble(w -> w.sum(requests, Map.of("outcome", "answered"))).sum();
        double tampered = workers.stream()
                .mapToDouble(w -> w.sum(requests, Map.of("outcome", "dead_letter", "code", "tampered"))).sum();
        String attestations = SealstreamMeter.BROKER_ATTESTATIONS.prometheusName();

        // order 1 and 2 answered 2 x PER_CLIENT + 2 requests and dead-lettered the tampered copy
        assertThat(answered).isGreaterThanOrEqualTo(2 * PER_CLIENT + 2);
        assertThat(tampered).isGreaterThanOrEqualTo(1);
        assertThat(broker.sum(attestations, Map.of("result", "accepted"))).isGreaterThanOrEqualTo(2);
        assertThat(broker.sum(attestations, Map.of("result", "denied", "code", "unknown_measurement"))).isEqualTo(1);
        assertThat(broker.sum(SealstreamMeter.BROKER_RELEASES.prometheusName(), Map.of("result", "granted")))
                .isGreaterThanOrEqualTo(2);
    }

    @Test
    @Order(7)
    void noMetricNameOrLabelOfTheRunCarriesTheCanary() throws Exception {
        CanaryScan scan = new CanaryScan(CANARY);
        for (MetricsScrape w : workerScrapes()) {
            scan.text("a worker's scrape", w.text());
        }
        scan.text("the key broker's scrape", MetricsScrape.of(stack.keyBroker().metricsUrl()).text());

        assertThat(scan.findings()).isEmpty();
    }

    @Test
    @Order(8)
    void aClientGivenARegistryRecordsItsRequestsThereAndNowhereElse() throws Exception {
        String model = stack.engine().models().iterator().next();
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        try (SealstreamClient acme = stack.clientBuilder("acme").meterRegistry(registry).build()) {
            List<CompletableFuture<EmbeddingResult>> answers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                answers.add(acme.embeddings().create(model, List.of("metered " + CANARY + " " + i)));
            }
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get();
        }
        MetricsScrape scrape = MetricsScrape.parse(registry.scrape());
        String requests = SealstreamMeter.CLIENT_REQUEST_TIME.prometheusName();

        for (SealstreamMeter meter : SealstreamMeter.values()) {
            if (meter.component() == SealstreamMeter.Component.CLIENT) {
                assertThat(scrape.has(meter)).as("%s in the client's registry", meter).isTrue();
            }
        }
        assertThat(scrape.sum(requests + "_count", Map.of("outcome", "answered"))).isEqualTo(20);
        assertThat(scrape.sum(requests + "_sum", Map.of("outcome", "answered"))).isPositive();
        assertThat(scrape.sum(SealstreamMeter.CLIENT_SEAL.prometheusName() + "_count", Map.of())).isEqualTo(20);
        assertThat(scrape.text()).doesNotContain(CANARY).doesNotContain("acme");
        assertThat(io.micrometer.core.instrument.Metrics.globalRegistry.getMeters())
                .noneMatch(m -> m.getId().getName().startsWith("sealstream"));
    }

    @Test
    @Order(9)
    void theKeyBrokersApiPortWhichTenantsReachServesNoMetrics() throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(stack.keyBroker().url() + io.sealstream.service.ServiceMetrics.PATH)).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).doesNotContain("sealstream_");
    }

    /** Each worker's scrape, once its consumer-lag gauges exist (they are read every few seconds). */
    private static List<MetricsScrape> workerScrapes() throws Exception {
        List<MetricsScrape> scrapes = new ArrayList<>();
        for (var worker : stack.workers()) {
            MetricsScrape[] last = new MetricsScrape[1];
            Eventually.holds(Duration.ofSeconds(15), () -> {
                try {
                    last[0] = MetricsScrape.of(worker.healthUrl());
                    return last[0].has(SealstreamMeter.WORKER_CONSUMER_LAG);
                } catch (Exception e) {
                    return false;
                }
            });
            scrapes.add(last[0]);
        }
        return scrapes;
    }

    private static float[] directEmbedding(String model, String text) {
        InferenceResponse r = stack.engine().infer(List.of(InferenceRequest.newBuilder().setModel(model)
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(text)).build()).build())).get(0);
        List<Float> v = ((EmbeddingsResult) r.getOutput()).getData().get(0).getVector();
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /** Re-sends a real request record with one clear field changed, as an attacker on the broker could. */
    @Test
    @Order(10)
    void aWorkerInAKataPodAttestsThroughItsGuestsAttestationAgentAndAnswersAlone() throws Exception {
        TeeWorker kata = stack.startWorkerInKataPod("kata-1");
        // last test of the class: the other workers leave, so the answer can only be the pod's
        for (TeeWorker w : List.copyOf(stack.workers())) {
            if (w != kata) {
                w.close();
            }
        }
        Eventually.holds(Duration.ofSeconds(60), kata::isReady);
        String model = stack.engine().models().iterator().next();

        try (SealstreamClient acme = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(90)).build()) {
            EmbeddingResult result = acme.embeddings().createBlocking(model, List.of("answered inside the pod"));

            assertThat(result.embeddings()).hasSize(1);
            io.sealstream.client.AnswerProvenance p = result.provenance().orElseThrow();
            assertThat(p.inLog()).isTrue();
            assertThat(p.measurement()).isEqualTo(java.util.HexFormat.of().formatHex(LocalStack.WORKER_MEASUREMENT));
        }
    }

    private static void injectTamperedCopy(String clientId, String requestId) throws Exception {
        String topic = stack.requestTopicOf(clientId);
        SchemaRegistryClient registry = new SchemaRegistryClient(stack.registry().url(), Duration.ofSeconds(10));
        ConfluentAvroDeserializer<EncryptedRequest> reader = new ConfluentAvroDeserializer<>(EncryptedRequest.class, registry);
        EncryptedRequest original = null;
        for (ConsumerRecord<String, byte[]> r : CommittedRecords.readAll(stack, topic)) {
            if (requestId.equals(r.key())) {
                original = reader.deserialize(topic, r.value());
            }
        }
        assertThat(original).as("request %s on the request topic", requestId).isNotNull();
        EncryptedRequest tampered = EncryptedRequest.newBuilder(original).setRequestId(requestId + "-forged").build();
        try (KafkaProducer<String, EncryptedRequest> producer = new KafkaProducer<>(stack.kafka().adminClientConfig(),
                new StringSerializer(), new ConfluentAvroSerializer<EncryptedRequest>(registry, true))) {
            producer.send(new ProducerRecord<>(topic, tampered.getRequestId(), tampered)).get();
        }
    }
}
