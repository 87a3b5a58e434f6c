package io.sealstream.cli.bench;

import io.sealstream.audit.AuditChainCheck;
import io.sealstream.cli.stack.ProcessDeployment;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.EnvelopeException;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.envelope.OpenedResponse;
import io.sealstream.envelope.SealedRequestSerializer;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.localstack.CommittedRecords;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackEndpoints;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import io.sealstream.streams.DeadLetters;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.WorkerSettings;
import io.sealstream.worker.engine.SyntheticEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The fault scenarios of the robustness rule (docs/operations.md, "Failure modes"), each on its own
 * embedded stack with the synthetic engine, so what is measured is the pipeline: R1 kills a worker
 * process with SIGKILL mid-run, R2 stops the Kafka broker mid-stream and starts it on the same data,
 * R3 interleaves seeded hostile records with normal traffic. Each returns a {@link FaultReport}
 * counted on the raw committed topics. The fault tests run them at CI sizes;
 * {@code sealstream bench faults} at larger ones.
 */
public final class FaultScenarios {
    private static final String CLIENT = "acme";
    private static final String FUZZ_CLIENT = "fuzz";
    private static final int IN_FLIGHT = 512;
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(4);
    /** How long the broker stays down in R2. */
    static final Duration BROKER_DOWNTIME = Duration.ofSeconds(5);

    private FaultScenarios() {
    }

    /** R1: {@code requests} requests; at half of them answered, one of two worker processes is SIGKILLed and replaced. */
    public static FaultReport workerKill(int requests) throws Exception {
        try (LocalStack stack = LocalStack.start(options(0)); WorkerProcesses procs = new WorkerProcesses(stack)) {
            WorkerProcesses.Worker a = procs.start("kill-a");
            procs.start("kill-b");
            long t0 = System.nanoTime();
            Traffic traffic = Traffic.run(stack, requests, answered -> {
                if (answered == requests / 2) {
                    a.kill();
                    procs.startQuietly("kill-c");
                }
            });
            return traffic.report(stack, "R1 worker kill", 0, procs.threadReplacements(), 0, 0, Map.of(), t0);
        }
    }

    /**
     * R4: {@code requests} requests; at half of them answered, one of two worker processes gets
     * SIGTERM (as Kubernetes stops a pod) and is replaced; its exit is in the report.
     */
    public static FaultReport workerStop(int requests) throws Exception {
        try (LocalStack stack = LocalStack.start(options(0)); WorkerProcesses procs = new WorkerProcesses(stack)) {
            WorkerProcesses.Worker a = procs.start("stop-a");
            procs.start("stop-b");
            long t0 = System.nanoTime();
            List<Thread> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Exception> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            Traffic traffic = Traffic.run(stack, requests, answered -> {
                if (answered == requests / 2) {
                    // on their own threads: the callback runs on the client's listener, which must keep polling
                    events.add(event("fault-worker-stop", failures, () -> procs.stop(a)));
                    events.add(event("fault-worker-start", failures, () -> procs.start("stop-c")));
                }
            });
            awaitEvents(events, failures);
            return traffic.report(stack, "R4 worker SIGTERM", 0, procs.threadReplacements(), 0, 0, Map.of(), t0,
                    procs.exits());
        }
    }

    /** R5's outcome: the fault report, and how many requests the worker added mid-run answered. */
    public record DeploymentRun(FaultReport report, long addedWorkerRequests, int killedKafkaNode,
                                AuditChainCheck.Result audit, Map<String, Long> keyBrokerAuditEvents) {
    }

    /**
     * R5, the deployment: three Kafka node processes (replication factor 3, min ISR 2), the
     * registry, the key broker and two workers, each its own process started from its config file,
     * in {@code dir}. While {@code requests} requests stream: at a quarter answered one Kafka node is
     * killed (SIGKILL); at three eighths it starts again on its data, as an orchestrator restarts
     * it; at half a third worker starts (the last three eighths are sent once it serves); at three
     * quarters one of the first two is stopped (SIGTERM).
     */
    public static DeploymentRun deployment(int requests, Path dir) throws Exception {
        try (ProcessDeployment deployment = ProcessDeployment.start(dir, 3, 6);
             WorkerProcesses procs = new WorkerProcesses(deployment::writeWorkerConfig)) {
            // no worker is killed here, but a Kafka node is: a stream thread can wait about as long as the
            // cluster takes to fence the node (9 s) before it polls again, so the poll interval (the
            // transaction timeout) must exceed that
            Map<String, String> settings = Map.of(WorkerSettings.TRANSACTION_TIMEOUT.name(), "30000");
            // the client first, so the workers find its request topic when they start, not at their next
            // topic discovery
            deployment.provisionClient(CLIENT);
            WorkerProcesses.Worker a = procs.startAll(List.of("deploy-a", "deploy-b"), settings).get(0);
            int killed = deployment.kafka().nodeIds().get(1);
            CompletableFuture<WorkerProcesses.Worker> added = new CompletableFuture<>();
            List<Thread> events = new java.util.concurrent.CopyOnWriteArrayList<>();
            List<Exception> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            Traffic traffic = Traffic.run(deployment, SyntheticEngine.MODEL, requests, answered -> {
                // each on its own thread: the callback runs on the client's listener, which must keep polling
                if (answered == requests / 4) {
                    events.add(event("fault-kafka-kill", failures, () -> deployment.kafka().kill(killed)));
                } else if (answered == requests * 3 / 8) {
                    // as an orchestrator would: the node comes back under its id, on its data
                    events.add(event("fault-kafka-restart", failures, () -> {
                        events.get(0).join();
                        deployment.kafka().start(killed);
                    }));
                } else if (answered == requests / 2) {
                    events.add(event("fault-worker-add", failures, () -> {
                        try {
                            added.complete(procs.start("deploy-c", settings));
                        } catch (Exception e) {
                            added.completeExceptionally(e); // the senders stop waiting; awaitEvents reports it
                            throw e;
                        }
                    }));
                } else if (answered == requests * 3 / 4) {
                    events.add(event("fault-worker-stop", failures, () -> procs.stop(a)));
                }
            }, sent -> {
                if (sent == requests * 5 / 8) {
                    // the rest of the requests go out once the added worker serves, so it takes its share
                    added.handle((w, e) -> w).completeOnTimeout(null, 3, TimeUnit.MINUTES).join();
                }
            });
            awaitEvents(events, failures);
            long addedServed = procs.engineRequests(added.join()); // awaitEvents threw if it never started
            FaultReport report = traffic.report(deployment, "R5 deployment", 0, procs.threadReplacements(), 0, 0, Map.of(),
                    t0, procs.exits());
            // the key broker process's audit trail, through the node's kill: its chain and what it recorded
            // one read of the topic: every chain checked, the key broker's events counted by type
            AuditChainCheck check = new AuditChainCheck();
            Map<String, Long> types = new java.util.TreeMap<>();
            deployment.auditTopic().forEach((e, position) -> {
                check.accept(e, position);
                if (e.getProducer().equals(ProcessDeployment.KEY_BROKER_AUDIT_PRODUCER)) {
                    types.merge(e.getType(), 1L, Long::sum);
                }
            }, check::acceptUnreadable);
            return new DeploymentRun(report, addedServed, killed, check.result(), types);
        }
    }

    /** Runs {@code action} on a thread of its own, now; a failure is added to {@code failures}. */
    private static Thread event(String name, List<Exception> failures, ThrowingRunnable action) {
        Thread t = new Thread(() -> {
            try {
                action.run();
            } catch (Exception e) {
                failures.add(new IllegalStateException(name + " failed", e));
            }
        }, name);
        t.start();
        return t;
    }

    /** Waits for the scenario's events; one that failed fails the scenario (a fault that did not happen proves nothing). */
    private static void awaitEvents(List<Thread> events, List<Exception> failures) throws InterruptedException {
        for (Thread t : events) {
            t.join(TimeUnit.MINUTES.toMillis(3));
            if (t.isAlive()) {
                failures.add(new IllegalStateException(t.getName() + " did not finish within 3 min"));
            }
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("a fault of the scenario failed: " + failures.get(0).getMessage(),
                    failures.get(0));
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /**
     * R2: {@code requests} requests; at half of them answered, the broker stops, stays down for
     * {@link #BROKER_DOWNTIME}, and starts again on the same data directory and ports.
     */
    public static FaultReport brokerRestart(int requests) throws Exception {
        try (LocalStack stack = LocalStack.start(options(2))) {
            stack.awaitWorkersReady(Duration.ofSeconds(120));
            long t0 = System.nanoTime();
            Traffic traffic = Traffic.run(stack, requests, answered -> {
                if (answered == requests / 2) {
                    // on its own thread: the callback runs on the client's listener, which must keep polling
                    Thread restart = new Thread(() -> {
                        stack.kafka().stop();
                        sleep(BROKER_DOWNTIME);
                        stack.kafka().start();
                    }, "fault-broker-restart");
                    restart.start();
                }
            });
            return traffic.report(stack, "R2 broker restart", 0, inProcessReplacements(stack), 0, 0, Map.of(), t0);
        }
    }

    /**
     * R3: {@code hostile} hostile records from a fuzzer seeded with {@code seed}, interleaved with
     * {@code requests} normal requests. A hostile record is accounted for when it ended in exactly
     * the way its kind must (one dead letter, or one encrypted error; a replay: one answer and one
     * {@code replayed} dead letter).
     */
    public static FaultReport fuzz(int requests, int hostile, long seed) throws Exception {
        return fuzz(requests, hostile, seed, stack -> { });
    }

    /** The text every hostile record that carries plaintext carries, for scans of what must stay ciphertext. */
    public static final String FUZZ_CANARY = HostileRecords.CANARY;

    /** As {@link #fuzz(int, int, long)}, handing the stack to {@code inspect} before it stops (canary scans). */
    public static FaultReport fuzz(int requests, int hostile, long seed, StackInspection inspect) throws Exception {
        try (LocalStack stack = LocalStack.start(options(2))) {
            stack.awaitWorkersReady(Duration.ofSeconds(120));
            String model = stack.engine().models().iterator().next();
            String family = stack.requestTopicFamily();
            SchemaRegistryClient registry = new SchemaRegistryClient(stack.registry().url(), Duration.ofSeconds(10));
            byte[] nonce = new byte[32];
            new SecureRandom().nextBytes(nonce);
            PublicTopicKeys served = stack.keyBroker().broker().publicKeys(family, nonce);
            HostileRecords fuzzer = new HostileRecords(seed, TopicPublicKeys.parse(family, served.keyset()),
                    stack.requestTopicOf(FUZZ_CLIENT), FUZZ_CLIENT, model, new SealedRequestSerializer(registry, true),
                    new ConfluentAvroSerializer<>(registry, true));
            List<HostileRecords.Sent> sent = new ArrayList<>();
            long t0 = System.nanoTime();
            Traffic traffic;
            // the hostile tenant writes as itself: ACLs let it reach its own request topic and nothing else
            Map<String, Object> fuzzConfig = new HashMap<>(stack.kafkaClientConfig(FUZZ_CLIENT));
            fuzzConfig.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 << 20);
            fuzzConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(fuzzConfig,
                    new StringSerializer(), new ByteArraySerializer())) {
                int perNormal = Math.max(1, hostile / Math.max(1, requests));
                int[] next = {0};
                traffic = Traffic.run(stack, model, requests, answered -> { }, sentIndex -> {
                    for (int k = 0; k < perNormal && next[0] < hostile; k++, next[0]++) {
                        fuzzer.next(next[0], sent).forEach(producer::send);
                    }
                });
                while (next[0] < hostile) {
                    fuzzer.next(next[0]++, sent).forEach(producer::send);
                }
                producer.flush();
            }
            Outcomes outcomes = Outcomes.await(stack, registry, fuzzer, sent, Duration.ofSeconds(120));
            List<String> unaccounted = outcomes.unaccountedExamples(sent);
            unaccounted.stream().limit(10).forEach(u -> System.err.println("unaccounted hostile record " + u));
            Map<String, Integer> errors = new HashMap<>(traffic.errors);
            outcomes.errors.forEach((code, n) -> errors.merge(code, n, Integer::sum));
            FaultReport report = traffic.report(stack, "R3 fuzz", seed, inProcessReplacements(stack), hostile,
                    unaccounted.size(), errors, t0);
            inspect.accept(stack);
            return report;
        }
    }

    /** Looks at a scenario's stack before it stops. */
    @FunctionalInterface
    public interface StackInspection {
        void accept(LocalStack stack) throws Exception;
    }

    private static LocalStack.Options options(int workers) {
        return new LocalStack.Options().workers(workers).partitions(4).clients(List.of(CLIENT, FUZZ_CLIENT))
                .maxBatchSize(64).batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new);
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One steady run of {@link #replicatedCommitIntervals}: requests per second and client-side latency. */
    public record CommitIntervalRun(int commitIntervalMs, int round, int requests, double seconds, double p50Millis,
                                    double p99Millis, int lost, int duplicated) {
        public double rate() {
            return requests / seconds;
        }
    }

    /**
     * The workers' commit interval on a replicated cluster (issue 13, item 7): the deployment of
     * R5 without faults (three Kafka node processes, replication factor 3, min ISR 2, two worker
     * processes, the synthetic engine), {@code requests} requests per run, each interval in turn
     * for {@code rounds} rounds, so that drift of the machine falls on every interval alike. The
     * workers restart with each interval; the cluster stays.
     */
    public static List<CommitIntervalRun> replicatedCommitIntervals(int requests, Path dir, List<Integer> intervalsMs,
                                                                    int rounds, java.util.function.Consumer<CommitIntervalRun> progress)
            throws Exception {
        List<CommitIntervalRun> runs = new ArrayList<>();
        try (ProcessDeployment deployment = ProcessDeployment.start(dir, 3, 6);
             WorkerProcesses procs = new WorkerProcesses(deployment::writeWorkerConfig)) {
            deployment.provisionClient(CLIENT);
            int sent = 0;
            for (int round = 1; round <= rounds; round++) {
                for (int interval : intervalsMs) {
                    Map<String, String> settings = Map.of(WorkerSettings.COMMIT_INTERVAL.name(), Integer.toString(interval),
                            WorkerSettings.TRANSACTION_TIMEOUT.name(), "30000");
                    List<WorkerProcesses.Worker> workers = procs.startAll(
                            List.of("c" + interval + "-r" + round + "-a", "c" + interval + "-r" + round + "-b"), settings);
                    // a short warm-up, not counted: the workers' first batches and the client's metadata
                    Traffic.run(deployment, SyntheticEngine.MODEL, Math.min(500, requests / 4), i -> { }, i -> { }, "w" + sent + "-");
                    long t0 = System.nanoTime();
                    Traffic t = Traffic.run(deployment, SyntheticEngine.MODEL, requests, i -> { }, i -> { }, "m" + sent + "-");
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    FaultReport r = t.report(deployment, "commit " + interval, 0, 0, 0, 0, Map.of(), t0);
                    CommitIntervalRun run = new CommitIntervalRun(interval, round, requests, seconds, t.percentileMillis(0.50),
                            r.p99Millis(), r.lost(), r.duplicated());
                    runs.add(run);
                    progress.accept(run);
                    workers.forEach(procs::stop);
                    sent++;
                }
            }
        }
        return runs;
    }

    private static int inProcessReplacements(LocalStack stack) {
        return stack.workers().stream().mapToInt(TeeWorker::streamThreadReplacements).sum();
    }

    /** Normal requests from the SDK, a bounded number in flight, with client-side latency. */
    private static final class Traffic {
        final List<String> ids = new ArrayList<>();
        final List<Long> latenciesNanos = Collections.synchronizedList(new ArrayList<>());
        final Map<String, Integer> errors = new ConcurrentHashMap<>();
        int answered;

        static Traffic run(LocalStack stack, int requests, IntConsumer onAnswered) throws Exception {
            return run(stack, stack.engine().models().iterator().next(), requests, onAnswered, i -> { });
        }

        static Traffic run(StackEndpoints stack, String model, int requests, IntConsumer onAnswered, IntConsumer beforeEach)
                throws Exception {
            return run(stack, model, requests, onAnswered, beforeEach, "n-");
        }

        /**
         * Sends {@code requests} requests with ids {@code idPrefix} and a number; {@code beforeEach}
         * runs before each send, {@code onAnswered} after each answer.
         */
        static Traffic run(StackEndpoints stack, String model, int requests, IntConsumer onAnswered, IntConsumer beforeEach,
                           String idPrefix) throws Exception {
            Traffic t = new Traffic();
            Semaphore window = new Semaphore(IN_FLIGHT);
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            List<CompletableFuture<?>> futures = new ArrayList<>(requests);
            try (SealstreamClient client = stack.clientBuilder(CLIENT).requestTimeout(REQUEST_TIMEOUT).build()) {
                for (int i = 0; i < requests; i++) {
                    beforeEach.accept(i);
                    window.acquire();
                    String id = idPrefix + i;
                    t.ids.add(id);
                    long sentAt = System.nanoTime();
                    futures.add(client.embeddings().create(id, model, List.of("normal request " + i))
                            .whenComplete((r, e) -> {
                                window.release();
                                t.latenciesNanos.add(System.nanoTime() - sentAt);
                                if (e != null) {
                                    Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
                                    t.errors.merge(cause instanceof RequestRejectedException rr ? rr.code()
                                            : cause.getClass().getSimpleName(), 1, Integer::sum);
                                }
                                onAnswered.accept(done.incrementAndGet());
                            }));
                }
                CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
                        .exceptionally(e -> null).get(REQUEST_TIMEOUT.toSeconds() + 30, TimeUnit.SECONDS);
                t.answered = (int) client.stats().answered();
            }
            return t;
        }

        /** The client-side latency at quantile {@code q} (0.5: the median), in milliseconds. */
        double percentileMillis(double q) {
            List<Long> sorted = new ArrayList<>(latenciesNanos);
            Collections.sort(sorted);
            return sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * q))) / 1e6;
        }

        FaultReport report(StackEndpoints stack, String scenario, long seed, int threadReplacements, int hostile,
                           int unaccounted, Map<String, Integer> errorsOverride, long t0) {
            return report(stack, scenario, seed, threadReplacements, hostile, unaccounted, errorsOverride, t0, Map.of());
        }

        FaultReport report(StackEndpoints stack, String scenario, long seed, int threadReplacements, int hostile,
                           int unaccounted, Map<String, Integer> errorsOverride, long t0, Map<String, Integer> workerExits) {
            Map<String, Integer> counts = CommittedRecords.answerCounts(stack, EnvelopeProtocol.responseTopicFor(CLIENT));
            int lost = 0;
            int duplicated = 0;
            for (String id : ids) {
                int n = counts.getOrDefault(id, 0);
                lost += n == 0 ? 1 : 0;
                duplicated += n > 1 ? 1 : 0;
            }
            Map<String, Integer> deadLetters = new HashMap<>();
            for (ConsumerRecord<String, byte[]> r : CommittedRecords.readAll(stack, StreamProcessorConfig.DEFAULT_DLQ_TOPIC)) {
                deadLetters.merge(header(r, DeadLetters.REASON_HEADER), 1, Integer::sum);
            }
            return new FaultReport(scenario, seed, ids.size(), answered, lost, duplicated, deadLetters,
                    errorsOverride.isEmpty() ? errors : errorsOverride, threadReplacements, hostile, unaccounted,
                    percentileMillis(0.99),
                    (System.nanoTime() - t0) / 1e9, workerExits);
        }
    }

    /** How each hostile record ended: dead letters by key, encrypted answers by request id. */
    private static final class Outcomes {
        final Map<String, List<String>> deadByKey = new HashMap<>();
        final Map<String, List<String>> answersById = new HashMap<>();
        final Map<String, Integer> errors = new HashMap<>();

        private final HostileRecords fuzzer;
        private final ConfluentAvroDeserializer<EncryptedResponse> reader;

        private Outcomes(SchemaRegistryClient registry, HostileRecords fuzzer) {
            this.fuzzer = fuzzer;
            this.reader = new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry);
        }

        /** Reads the DLQ and the fuzzer's response topic until every hostile record is accounted for, or the timeout. */
        static Outcomes await(LocalStack stack, SchemaRegistryClient registry, HostileRecords fuzzer,
                              List<HostileRecords.Sent> sent, Duration timeout) {
            Outcomes o = new Outcomes(registry, fuzzer);
            String responses = EnvelopeProtocol.responseTopicFor(fuzzer.clientId());
            CommittedRecords.readUntil(stack, List.of(StreamProcessorConfig.DEFAULT_DLQ_TOPIC, responses), o::add,
                    () -> o.unaccounted(sent) == 0, timeout);
            return o;
        }

        private void add(ConsumerRecord<String, byte[]> r) {
            if (r.topic().equals(StreamProcessorConfig.DEFAULT_DLQ_TOPIC)) {
                deadByKey.computeIfAbsent(String.valueOf(r.key()), k -> new ArrayList<>())
                        .add(header(r, DeadLetters.REASON_HEADER));
                return;
            }
            EncryptedResponse response = reader.deserialize(r.topic(), r.value());
            ClientSession session = fuzzer.sessionFor(response.getRequestId());
            String outcome;
            try {
                OpenedResponse opened = session == null ? null : session.open(response);
                outcome = opened == null ? "unopenable" : opened.status() == ResponseStatus.OK ? "ok"
                        : opened.body().getError().getCode();
            } catch (EnvelopeException e) {
                outcome = "unopenable";
            }
            answersById.computeIfAbsent(response.getRequestId(), k -> new ArrayList<>()).add(outcome);
            if (!outcome.equals("ok")) {
                errors.merge(outcome, 1, Integer::sum);
            }
        }

        int unaccounted(List<HostileRecords.Sent> sent) {
            return unaccountedExamples(sent).size();
        }

        /** Each hostile record that did not end as its kind must, with what happened to it instead. */
        List<String> unaccountedExamples(List<HostileRecords.Sent> sent) {
            List<String> bad = new ArrayList<>();
            for (HostileRecords.Sent s : sent) {
                List<String> dead = deadByKey.getOrDefault(s.key(), List.of());
                List<String> answers = answersById.getOrDefault(s.key(), List.of());
                boolean ok = switch (s.kind()) {
                    case REPLAY -> answers.equals(List.of("ok")) && dead.equals(List.of("replayed"));
                    case EXPIRED -> answers.equals(List.of("expired")) && dead.isEmpty();
                    case FUTURE -> answers.equals(List.of("malformed")) && dead.isEmpty();
                    case TOO_MANY_TEXTS -> answers.equals(List.of("request_too_large")) && dead.isEmpty();
                    default -> answers.isEmpty() && dead.size() == 1;
                };
                if (!ok) {
                    bad.add(s.key() + " " + s.kind() + ": answers " + answers + ", dead letters " + dead);
                }
            }
            return bad;
        }
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? "(none)" : new String(h.value(), StandardCharsets.UTF_8);
    }
}
