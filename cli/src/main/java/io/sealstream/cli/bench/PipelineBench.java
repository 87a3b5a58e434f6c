package io.sealstream.cli.bench;

import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.LocalStack;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.streams.EngineBatcher;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.WorkerSettings;
import io.sealstream.worker.engine.EmbeddingEngine;
import io.sealstream.worker.engine.EmbeddingModel;
import io.sealstream.worker.engine.InferenceEngine;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench pipeline}: the confidential pipeline against the raw engine, side by
 * side in one run, on the default embedded stack (SASL_SSL, ACLs, default batch settings):
 * <ol>
 *   <li>efficiency: MiniLM (int8, then fp32) through the pipeline vs the same engine called
 *       directly with the same batch size;</li>
 *   <li>capacity with the synthetic engine, and the CPU per request by component;</li>
 *   <li>latency percentiles at half that capacity, next to linger and batch compute time;</li>
 *   <li>the envelope's cost: capacity encrypted vs the same pipeline with the payload cipher
 *       replaced by copying ({@link PlaintextEnvelopes}, a mode only this benchmark can install);</li>
 *   <li>scaling by partition with a fixed-latency engine.</li>
 * </ol>
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true,
        description = "Pipeline vs raw engine: efficiency, capacity with CPU per request by component, latency.")
public final class PipelineBench implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "15", description = "Measured seconds per capacity and latency run (default ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--warmup", defaultValue = "10",
            description = "Least warm-up seconds before each measured run; it goes on until the JIT settles (default ${DEFAULT-VALUE}).")
    double warmup;

    @Option(names = "--warmup-limit", defaultValue = "300",
            description = "Most warm-up seconds before each measured run, settled or not (default ${DEFAULT-VALUE}).")
    double warmupLimit;

    @Option(names = "--in-flight", defaultValue = "4096", description = "Requests in flight for capacity (default ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(names = "--texts", defaultValue = "6000", description = "Texts per MiniLM efficiency run (default ${DEFAULT-VALUE}).")
    int texts;

    @Option(names = "--model-in-flight", defaultValue = "256", description = "Requests in flight for MiniLM (default ${DEFAULT-VALUE}, as submit).")
    int modelInFlight;

    @Option(names = "--sample-ms", defaultValue = "10",
            description = "JFR sampling period that splits a thread's CPU by job; 0 for per-thread totals only (default ${DEFAULT-VALUE}).")
    int sampleMs;

    @Option(names = "--commit-interval-ms", description = "Workers' commit interval (default: the workers' default).")
    Integer commitIntervalMs;

    @Option(names = "--workers", description = "Workers of the stack (default: the default stack's).")
    private Integer workers;

    @Option(names = "--linger-ms", description = "Workers' batch linger (default: the workers' default).")
    Integer lingerMs;

    @Option(names = "--streams-config", description = "A Kafka Streams, consumer or producer setting of the workers, KEY=VALUE (repeatable).")
    java.util.Map<String, String> streamsConfig = new java.util.LinkedHashMap<>();

    @Option(names = "--client-config", description = "A Kafka producer or consumer setting of the benchmark's client, KEY=VALUE (repeatable).")
    java.util.Map<String, String> clientConfig = new java.util.LinkedHashMap<>();

    @Option(names = "--batch-ms", defaultValue = "100",
            description = "Sleep per batch of the fixed-latency engine that measures scaling (default ${DEFAULT-VALUE}).")
    int batchMs;

    @Option(names = "--worker-process", description = "P1 with the worker in a process of its own (its jar, C2, "
            + "int8 only), beside the stack's broker, registry and key broker in this JVM; give --warmup 120 or more, "
            + "as the worker's JIT is not watched.")
    boolean workerProcess;

    @Option(names = "--only", split = ",",
            description = "Run only these parts: capacity (with latency), crypto, efficiency, rate, scaling, defaults, kafka (default: all).")
    List<String> only;

    private final PrintStream out = System.out;
    /** A quota no single benchmark client reaches, so capacity measures the pipeline, not the tenant's share. */
    private static final ClientQuota UNTHROTTLED = new ClientQuota(1L << 30, 1L << 30, 400.0);

    @Override
    public Integer call() throws Exception {
        out.printf("Pipeline benchmark on the default embedded stack, %d cores, one run%n",
                Runtime.getRuntime().availableProcessors());
        try (jdk.jfr.Recording jfr = new jdk.jfr.Recording()) {
            jfr.start(); // JFR's own start-up (class loading, compilation) stays out of the measured windows
        }
        List<String[]> table = new ArrayList<>();
        // capacity first: its long synthetic run also compiles the pipeline's code, which a real
        // model starves the JIT of (and a running service has long compiled)
        if (runs("capacity")) {
            capacity(table);
        } else if (runs("efficiency") || runs("crypto")) {
            warmUpPipelineCode();
        }
        if (runs("crypto")) {
            cryptoOverhead(table);
        }
        if (runs("efficiency")) {
            // a worker process serves the model its image carries, int8 only
            for (EmbeddingModel model : workerProcess ? List.of(EmbeddingModel.ALL_MINILM_L6_V2_Q)
                    : List.of(EmbeddingModel.ALL_MINILM_L6_V2_Q, EmbeddingModel.ALL_MINILM_L6_V2)) {
                table.add(efficiency(model));
            }
        }
        if (runs("rate")) {
            atModelRate();
        }
        if (runs("scaling")) {
            scaling(table);
        }
        if (runs("defaults")) {
            defaults();
        }
        if (runs("kafka")) {
            kafkaSettings();
        }
        out.println();
        out.printf("%-44s %-22s %s%n", "figure", "value", "target / context");
        for (String[] row : table) {
            out.printf("%-44s %-22s %s%n", row[0], row[1], row[2]);
        }
        return 0;
    }

    /** The benchmark's client, with the {@code --client-config} settings. */
    private SealstreamClient client(LocalStack stack) {
        SealstreamClient.Builder builder = stack.clientBuilder("demo");
        clientConfig.forEach(builder::kafkaConfig);
        return builder.build();
    }

    private boolean runs(String part) {
        return only == null || only.isEmpty() || only.contains(part);
    }

    private LocalStack stack(Supplier<InferenceEngine> engine) throws InterruptedException {
        return stack(new LocalStack.Options().engine(engine));
    }

    private LocalStack stack(LocalStack.Options options) throws InterruptedException {
        if (workers != null) {
            options.workers(workers);
        }
        if (commitIntervalMs != null) {
            options.commitInterval(Duration.ofMillis(commitIntervalMs));
        }
        if (lingerMs != null) {
            options.batchLinger(Duration.ofMillis(lingerMs));
        }
        streamsConfig.forEach(options::workerStreamsConfig);
        LocalStack stack = LocalStack.start(options);
        if (!stack.awaitWorkersReady(Duration.ofSeconds(120))) {
            stack.close();
            throw new IllegalStateException("the workers did not become ready within 120 s");
        }
        return stack;
    }

    /** P1: one model through the pipeline vs called directly, same texts, batch size and threads. */
    private String[] efficiency(EmbeddingModel model) throws Exception {
        out.printf("%n[efficiency] %s: %d texts, one per request, %d in flight%n", model.modelName(), texts, modelInFlight);
        int batch = StreamProcessorConfig.DEFAULT_MAX_BATCH_SIZE;
        LocalStack.Options options = new LocalStack.Options().engine(() -> EmbeddingEngine.load(model));
        if (workerProcess) {
            options.workers(0);
        }
        try (LocalStack stack = stack(options);
             WorkerProcesses procs = new WorkerProcesses(stack);
             SealstreamClient client = client(stack)) {
            if (workerProcess) {
                // one worker, one engine, as the raw engine it is compared with; the image's heap and C2
                Map<String, String> defaults = new java.util.HashMap<>(Map.of(
                        WorkerSettings.ENGINE.name(), "minilm",
                        WorkerSettings.MAX_BATCH_SIZE.name(), Integer.toString(batch),
                        WorkerSettings.BATCH_LINGER.name(), Long.toString(StreamProcessorConfig.DEFAULT_BATCH_LINGER.toMillis()),
                        WorkerSettings.TRANSACTION_TIMEOUT.name(),
                        Long.toString(StreamProcessorConfig.DEFAULT_TRANSACTION_TIMEOUT.toMillis())));
                if (commitIntervalMs != null) {
                    defaults.put(WorkerSettings.COMMIT_INTERVAL.name(), Long.toString(commitIntervalMs));
                }
                procs.start("worker-process", defaults, "1g", List.of());
                out.printf("  one worker process (its jar, C2, 1 GiB heap) serves every partition%n");
            }
            client.verifyKeyBroker();
            String name = model.modelName();
            Load load = new Load(client, name, PipelineBench::text);
            warmUp(load, modelInFlight);
            // raw and pipeline alternate, each pipeline round between two raw ones
            double raw = rawRate(stack.engine(), name, batch, 2000);
            RoundRatios ratios = new RoundRatios();
            double pipedSum = 0;
            double rawSum = 0;
            Measured last = null;
            EngineBatcher.Totals engine = null;
            for (int round = 1; round <= EFFICIENCY_ROUNDS; round++) {
                // every round measured alike; the last one's breakdown is printed
                EngineBatcher.Totals before = engineTotals(stack);
                last = measured(stack, () -> load.closed(modelInFlight, texts, 0));
                engine = engineTotals(stack).since(before);
                Load.Outcome piped = last.outcome();
                long cpu0 = processCpuNanos();
                long wall0 = System.nanoTime();
                double rawAfter = rawRate(stack.engine(), name, batch, 2000);
                double rawCores = (processCpuNanos() - cpu0) / (double) (System.nanoTime() - wall0);
                double rawAround = (raw + rawAfter) / 2;
                ratios.add(piped.perSecond(), raw, rawAfter);
                pipedSum += piped.perSecond();
                rawSum += rawAround;
                out.printf("  round %d: pipeline %.1f texts/s (%d answered, %d failed), raw engine %.1f then %.1f texts/s "
                        + "(%.2f cores busy): %.2f x raw%n", round, piped.perSecond(), piped.answered(), piped.failed(),
                        raw, rawAfter, rawCores, piped.perSecond() / rawAround);
                raw = rawAfter;
            }
            CpuBreakdown.Result used = last.cpu();
            long answered = last.outcome().answered();
            if (workerProcess) {
                out.printf("    this JVM (broker, registry, key broker, client): %.2f cores busy; the worker's process "
                        + "is not in the breakdown below%n", used.totalCpuSeconds() / used.wallSeconds());
            } else {
                out.printf("    pipeline: %.2f cores busy; the engine ran %d batches of %.1f requests on average and was "
                        + "busy %.0f %% of the run (two workers share it: each waits for the other's batch); besides "
                        + "the engine:%n", used.totalCpuSeconds() / used.wallSeconds(), engine.batches(),
                        engine.requests() / (double) Math.max(1, engine.batches()),
                        100.0 * engine.busyNanos() / 1e9 / last.outcome().seconds());
            }
            used.shares().stream().filter(sh -> !sh.component().startsWith("worker: inference thread")).limit(8)
                    .forEach(sh -> out.printf("    %-62s %7.1f us per request%n", sh.component(),
                            sh.cpuSeconds() * 1e6 / answered));
            out.printf("    of which the busiest other threads:%n");
            used.busiestOtherThreads().stream().limit(5).forEach(sh -> out.printf("      %-60s %7.1f us per request%n",
                    sh.component(), sh.cpuSeconds() * 1e6 / answered));
            return new String[] {"P1 efficiency, " + name, String.format("%.2f x raw", ratios.median()),
                    String.format(">= 0.90 (median of %d rounds, %.2f - %.2f; pipeline %.0f/s, raw %.0f/s at batch %d)",
                            ratios.rounds(), ratios.min(), ratios.max(), pipedSum / ratios.rounds(),
                            rawSum / ratios.rounds(), batch)};
        }
    }

    /** Capacity and CPU per request with the synthetic engine, then latency at half capacity. */
    private void capacity(List<String[]> table) throws Exception {
        out.printf("%n[capacity] synthetic engine, %d in flight, %.0f s warm-up, %.0f s measured; the client's quota is "
                + "raised to %s (the default tenant quota, %s, caps one client below the pipeline's capacity)%n",
                inFlight, warmup, seconds, describe(UNTHROTTLED), describe(ClientQuota.DEFAULT));
        try (LocalStack stack = stack(new LocalStack.Options().engine(SyntheticEngine::new).quota(UNTHROTTLED));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            String model = SyntheticEngine.MODEL;
            Load load = new Load(client, model, PipelineBench::text);
            warmUp(load, inFlight);
            CpuBreakdown cpu = new CpuBreakdown(Load.THREAD_PREFIX, stack.registry().pid(), Duration.ofMillis(sampleMs));
            cpu.start();
            Load.Outcome run = load.closed(inFlight, 0, seconds);
            CpuBreakdown.Result used = cpu.stop(List.of(run.sender()));
            double capacity = run.perSecond();
            out.printf("  %d answered, %d failed in %.1f s: %.0f requests/s%n", run.answered(), run.failed(),
                    run.seconds(), capacity);
            out.printf("  CPU per request by component (%.2f cores busy of %d):%n",
                    used.totalCpuSeconds() / used.wallSeconds(), Runtime.getRuntime().availableProcessors());
            out.printf("    %-62s %10s %12s%n", "component", "CPU", "allocated");
            for (CpuBreakdown.Share s : used.shares()) {
                out.printf("    %-62s %7.1f us %9.1f KB%n", s.component(), s.cpuSeconds() * 1e6 / run.answered(),
                        s.allocatedBytes() / 1024.0 / run.answered());
            }
            out.printf("    %-62s %7.1f us %9.1f KB%n", "total", used.totalCpuSeconds() * 1e6 / run.answered(),
                    used.shares().stream().mapToLong(CpuBreakdown.Share::allocatedBytes).sum() / 1024.0 / run.answered());
            out.println("  busiest other threads (CPU per request):");
            for (CpuBreakdown.Share s : used.busiestOtherThreads()) {
                out.printf("    %-62s %7.1f us%n", s.component(), s.cpuSeconds() * 1e6 / run.answered());
            }
            table.add(new String[] {"Capacity, synthetic engine", String.format("%.0f requests/s", capacity),
                    String.format(">= 10000; %.0f us CPU per request", used.totalCpuSeconds() * 1e6 / run.answered())});

            double compute = batchComputeMs(stack.engine(), model, StreamProcessorConfig.DEFAULT_MAX_BATCH_SIZE);
            double rate = capacity / 2;
            out.printf("%n[latency] open loop at %.0f requests/s (half capacity), %.0f s%n", rate, seconds);
            load.open(rate, Math.min(warmup, 3));
            Load.Outcome lat = load.open(rate, seconds);
            double linger = lingerMs != null ? lingerMs : StreamProcessorConfig.DEFAULT_BATCH_LINGER.toMillis();
            double bound = linger + 2 * compute + 20;
            out.printf("  %d answered, %d failed; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms; linger %.0f ms, batch compute %.2f ms%n",
                    lat.answered(), lat.failed(), lat.latencyMs(0.5), lat.latencyMs(0.95), lat.latencyMs(0.99), linger, compute);
            table.add(new String[] {"P3 latency p50 / p95 / p99 at half capacity",
                    String.format("%.0f / %.0f / %.0f ms", lat.latencyMs(0.5), lat.latencyMs(0.95), lat.latencyMs(0.99)),
                    String.format("p99 <= %.0f ms (linger %.0f + 2 x compute %.2f + 20)", bound, linger, compute)});
        }
    }

    /**
     * P2: capacity with the envelope's payload cipher, then with it replaced by copying, then with
     * it again (the two encrypted runs bracket the plaintext one, so drift shows and averages out).
     * Each run has its own stack, so every thread starts with the cipher of its mode.
     */
    private void cryptoOverhead(List<String[]> table) throws Exception {
        out.printf("%n[crypto] synthetic engine, %d in flight, %.0f s per run: after a warm-up pair, encrypted, "
                + "plaintext envelopes (AES-GCM replaced by copying; benchmark only), encrypted again%n", inFlight, seconds);
        // one unmeasured pair first: each mode's stack compiles code the other's does not run
        capacityRun("encrypted (warm-up)");
        try (PlaintextEnvelopes mode = PlaintextEnvelopes.install()) {
            capacityRun("plaintext (warm-up)");
        }
        double[] before = capacityRun("encrypted");
        double[] plain;
        try (PlaintextEnvelopes mode = PlaintextEnvelopes.install()) {
            plain = capacityRun("plaintext");
        }
        double[] after = capacityRun("encrypted");
        double enc = (before[0] + after[0]) / 2;
        double encUs = (before[1] + after[1]) / 2;
        double plaintext = plain[0];
        double plaintextUs = plain[1];
        table.add(new String[] {"P2 encrypted vs plaintext envelopes", String.format("%.2f x", enc / plaintext),
                String.format(">= 0.80 (%.0f vs %.0f requests/s; %.0f vs %.0f us CPU per request)", enc, plaintext,
                        encUs, plaintextUs)});
    }

    /** One closed-loop capacity run on a fresh stack: requests/s and CPU microseconds per request. */
    private double[] capacityRun(String label) throws Exception {
        try (LocalStack stack = stack(new LocalStack.Options().engine(SyntheticEngine::new).quota(UNTHROTTLED));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            Load load = new Load(client, SyntheticEngine.MODEL, PipelineBench::text);
            warmUp(load, inFlight);
            Measured measured = measured(stack, () -> load.closed(inFlight, 0, seconds));
            Load.Outcome run = measured.outcome();
            double us = measured.cpuMicrosPerRequest();
            out.printf("  %-20s %.0f requests/s (%d answered, %d failed), %.0f us CPU per request%n", label,
                    run.perSecond(), run.answered(), run.failed(), us);
            return new double[] {run.perSecond(), us};
        }
    }

    /**
     * The figures behind two defaults: the raw MiniLM engine's rate and batch time by batch size
     * (max batch size), and what requests in flight give one client under its default quota with
     * the synthetic engine (submit's in-flight).
     */
    private void defaults() throws Exception {
        out.printf("%n[defaults] max batch size: raw MiniLM int8 engine by batch size%n");
        try (InferenceEngine engine = EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q)) {
            String name = EmbeddingModel.ALL_MINILM_L6_V2_Q.modelName();
            rawRate(engine, name, 32, 2000); // warms the runtime
            for (int batch : List.of(1, 8, 16, 32, 64, 128)) {
                double rate = rawRate(engine, name, batch, Math.max(512, batch * 8));
                out.printf("  batch %3d: %6.0f texts/s, %6.1f ms per batch%n", batch, rate, batch * 1000 / rate);
            }
        }
        out.printf("%n[defaults] requests in flight: one client, default tenant quota, synthetic engine%n");
        try (LocalStack stack = stack(new LocalStack.Options().engine(SyntheticEngine::new));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            Load load = new Load(client, SyntheticEngine.MODEL, PipelineBench::text);
            warmUp(load, 1024);
            for (int n : List.of(64, 256, 1024, 4096)) {
                load.closed(n, 0, 2);
                Load.Outcome run = load.closed(n, 0, seconds);
                out.printf("  %5d in flight: %6.0f requests/s, p50 %5.1f ms, p99 %6.1f ms (%d failed)%n", n,
                        run.perSecond(), run.latencyMs(0.5), run.latencyMs(0.99), run.failed());
            }
        }
    }

    /** Pipeline rounds per model in P1, each between two raw-engine runs. */
    private static final int EFFICIENCY_ROUNDS = 3;

    /** About MiniLM int8's rate on two cores: the rate at which P1 runs the pipeline. */
    private static final double MODEL_RATE = 1000;

    /** One set of Kafka client settings: the workers' (Streams, producer, consumer) and the client's. */
    private record KafkaVariant(String name, Map<String, Object> worker, Map<String, Object> client) {
    }

    /**
     * The figures behind the Kafka client settings: producer linger and batch size, fetch sizes
     * of the workers and of the client, each changed alone from the defaults; capacity and CPU
     * per request at {@code --in-flight}, then CPU per request and latency at MiniLM's rate, where
     * the broker's cost per request is highest (each fetch and transaction carries few records).
     */
    private void kafkaSettings() throws Exception {
        List<KafkaVariant> variants = List.of(
                new KafkaVariant("defaults", Map.of(), Map.of()),
                new KafkaVariant("client producer linger.ms=0", Map.of(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 0)),
                new KafkaVariant("client producer linger.ms=20", Map.of(), Map.of(ProducerConfig.LINGER_MS_CONFIG, 20)),
                new KafkaVariant("client producer batch.size=64 KiB", Map.of(),
                        Map.of(ProducerConfig.BATCH_SIZE_CONFIG, 65536)),
                new KafkaVariant("worker producer linger.ms=5",
                        Map.of(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5), Map.of()),
                new KafkaVariant("worker producer batch.size=64 KiB",
                        Map.of(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 65536), Map.of()),
                new KafkaVariant("worker fetch.min.bytes=16 KiB, wait 5 ms",
                        Map.of(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), 16384,
                                StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 5), Map.of()),
                new KafkaVariant("client fetch.min.bytes=16 KiB, wait 5 ms", Map.of(),
                        Map.of(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 16384, ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5)),
                // last again: the JIT keeps compiling across stacks of one JVM, so the two bracket the drift
                new KafkaVariant("defaults (again)", Map.of(), Map.of()));
        out.printf("%n[kafka] Kafka client settings, each changed alone; synthetic engine, %.0f s per run: capacity at %d "
                + "in flight, then CPU per request and latency at %.0f requests/s%n", seconds, inFlight, MODEL_RATE);
        for (KafkaVariant v : variants) {
            LocalStack.Options options = new LocalStack.Options().engine(SyntheticEngine::new).quota(UNTHROTTLED);
            v.worker().forEach(options::workerStreamsConfig);
            try (LocalStack stack = stack(options)) {
                SealstreamClient.Builder builder = stack.clientBuilder("demo");
                v.client().forEach(builder::kafkaConfig);
                try (SealstreamClient client = builder.build()) {
                    client.verifyKeyBroker();
                    Load load = new Load(client, SyntheticEngine.MODEL, PipelineBench::text);
                    warmUp(load, inFlight);
                    Measured capacity = measured(stack, () -> load.closed(inFlight, 0, seconds));
                    load.open(MODEL_RATE, 2);
                    Measured slow = measured(stack, () -> load.open(MODEL_RATE, seconds));
                    Load.Outcome atRate = slow.outcome();
                    CpuBreakdown.Result usedAtRate = slow.cpu();
                    out.printf("  %-42s %6.0f requests/s, %4.0f us CPU each | at %.0f/s: %4.0f us CPU each, p50 %5.1f ms, "
                            + "p99 %6.1f ms (%d failed)%n", v.name(), capacity.outcome().perSecond(),
                            capacity.cpuMicrosPerRequest(), MODEL_RATE, slow.cpuMicrosPerRequest(), atRate.latencyMs(0.5),
                            atRate.latencyMs(0.99), capacity.outcome().failed() + atRate.failed());
                    if (v == variants.get(0)) {
                        usedAtRate.shares().stream().limit(6).forEach(sh -> out.printf("      at %.0f/s: %-56s %6.0f us%n",
                                MODEL_RATE, sh.component(), sh.cpuSeconds() * 1e6 / atRate.answered()));
                        usedAtRate.busiestOtherThreads().stream().limit(4).forEach(sh -> out.printf(
                                "        of which %-52s %6.0f us%n", sh.component(), sh.cpuSeconds() * 1e6 / atRate.answered()));
                    }
                }
            }
        }
    }

    /**
     * The pipeline's own cost at MiniLM's pace, where P1 runs it: the synthetic engine in an open
     * loop at {@value #MODEL_RATE} requests/s, CPU per request by component and the broker's
     * requests by type per answered request. At this rate the fixed work (transactions, fetches,
     * punctuations) outweighs the work per request, and this is where it shows.
     */
    private void atModelRate() throws Exception {
        out.printf("%n[rate] synthetic engine, open loop at %.0f requests/s (MiniLM's pace), %.0f s measured%n",
                MODEL_RATE, seconds);
        try (LocalStack stack = stack(new LocalStack.Options().engine(SyntheticEngine::new).quota(UNTHROTTLED));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            Load load = new Load(client, SyntheticEngine.MODEL, PipelineBench::text);
            warmUp(load, inFlight);
            load.open(MODEL_RATE, Math.min(warmup, 3));
            BrokerRequests before = BrokerRequests.read();
            Measured slow = measured(stack, () -> load.open(MODEL_RATE, seconds));
            List<BrokerRequests.Type> requests = BrokerRequests.read().since(before);
            Load.Outcome run = slow.outcome();
            out.printf("  %d answered, %d failed; p50 %.1f ms, p99 %.1f ms; %.0f us CPU per request (%.2f cores busy)%n",
                    run.answered(), run.failed(), run.latencyMs(0.5), run.latencyMs(0.99), slow.cpuMicrosPerRequest(),
                    slow.cpu().totalCpuSeconds() / slow.cpu().wallSeconds());
            slow.cpu().shares().forEach(sh -> out.printf("    %-62s %7.1f us per request%n", sh.component(),
                    sh.cpuSeconds() * 1e6 / run.answered()));
            out.println("    of which the busiest other threads:");
            slow.cpu().busiestOtherThreads().stream().limit(8).forEach(sh -> out.printf("      %-60s %7.1f us per request%n",
                    sh.component(), sh.cpuSeconds() * 1e6 / run.answered()));
            out.println("  broker requests per second by type (handler time per request answered):");
            for (BrokerRequests.Type t : requests) {
                out.printf("    %-28s %8.1f /s %7.1f us%n", t.request(), t.count() / run.seconds(),
                        t.localMillis() * 1e3 / run.answered());
            }
        }
    }

    /** Compiles the pipeline's code with the synthetic engine, whose run leaves the JIT the CPU. */
    private void warmUpPipelineCode() throws Exception {
        out.printf("%n[warm-up] the pipeline's code, with the synthetic engine%n");
        try (LocalStack stack = stack(new LocalStack.Options().engine(SyntheticEngine::new).quota(UNTHROTTLED));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            warmUp(new Load(client, SyntheticEngine.MODEL, PipelineBench::text), inFlight);
        }
    }

    /**
     * P4: a fixed-latency engine (asleep, no CPU) on 8 partitions, served by 1, 2, 4, then 8
     * workers of one stack (each added worker triggers a rebalance, waited out before measuring).
     */
    private void scaling(List<String[]> table) throws Exception {
        int partitions = 8;
        out.printf("%n[scaling] fixed-latency engine (%d ms per batch, asleep), %d partitions, %d in flight%n",
                batchMs, partitions, inFlight);
        Supplier<InferenceEngine> engine = () -> new FixedLatencyEngine(Duration.ofMillis(batchMs));
        try (LocalStack stack = stack(new LocalStack.Options().engine(engine).workers(1).partitions(partitions));
             SealstreamClient client = client(stack)) {
            client.verifyKeyBroker();
            Load load = new Load(client, stack.engine().models().iterator().next(), PipelineBench::text);
            double one = 0;
            StringBuilder figures = new StringBuilder();
            for (int workers : List.of(1, 2, 4, 8)) {
                for (int i = stack.workers().size(); i < workers; i++) {
                    stack.startWorker("worker-" + i, LocalStack.WORKER_MEASUREMENT);
                }
                stack.awaitWorkersReady(Duration.ofSeconds(120));
                load.closed(inFlight, 0, Math.max(5, warmup / 2)); // the rebalance settles, every worker serves
                Load.Outcome run = load.closed(inFlight, 0, seconds);
                if (workers == 1) {
                    one = run.perSecond();
                }
                out.printf("  %d worker(s): %.0f requests/s (%.2f x one worker; %d failed)%n", workers, run.perSecond(),
                        run.perSecond() / one, run.failed());
                figures.append(figures.length() == 0 ? "" : " / ").append(String.format("%.2f", run.perSecond() / one));
            }
            table.add(new String[] {"P4 scaling 1 / 2 / 4 / 8 workers, 8 partitions", figures + " x",
                    String.format(">= 3.6 x at 4 (%d ms per batch, asleep)", batchMs)});
        }
    }

    /**
     * Runs load until the JIT has settled (under 50 ms of compilation in a 2 s round) or 90 s
     * passed, at least {@code --warmup} seconds: on two cores the compiler threads of a fresh JVM
     * would otherwise take a third of the CPU of the first minute, which a running service does not pay.
     */
    private void warmUp(Load load, int inFlight) throws InterruptedException {
        long t0 = System.nanoTime();
        double round = 2;
        while (true) {
            long before = CpuBreakdown.compileMillis();
            load.closed(inFlight, 0, round);
            long compiled = CpuBreakdown.compileMillis() - before;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            if ((compiled < 50 && elapsed >= warmup) || elapsed > warmupLimit) {
                out.printf("  warm-up %.0f s (JIT: %d ms in the last %.0f s round)%n", elapsed, compiled, round);
                return;
            }
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** A measured window: what the load did and the CPU the process and the registry used meanwhile. */
    private record Measured(Load.Outcome outcome, CpuBreakdown.Result cpu) {
        double cpuMicrosPerRequest() {
            return cpu.totalCpuSeconds() * 1e6 / outcome.answered();
        }
    }

    /**
     * Runs {@code run} inside a per-thread CPU window. No JFR sampling: the sampler would tax the
     * pipeline's window and not the raw engine's it is compared with.
     */
    private static Measured measured(LocalStack stack, Callable<Load.Outcome> run) throws Exception {
        CpuBreakdown cpu = new CpuBreakdown(Load.THREAD_PREFIX, stack.registry().pid(), Duration.ZERO);
        cpu.start();
        Load.Outcome outcome = run.call();
        return new Measured(outcome, cpu.stop(List.of(outcome.sender())));
    }

    /** The engine totals of every worker of {@code stack}, summed. */
    private static EngineBatcher.Totals engineTotals(LocalStack stack) {
        return stack.workers().stream().map(TeeWorker::engineTotals).reduce(new EngineBatcher.Totals(0, 0, 0),
                EngineBatcher.Totals::plus);
    }

    /** Texts/s of {@code engine} called directly on {@code n} one-text requests in batches of {@code batch}. */
    static double rawRate(InferenceEngine engine, String model, int batch, int n) {
        List<InferenceRequest> requests = requests(model, n);
        engine.infer(requests.subList(0, batch));
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i += batch) {
            engine.infer(requests.subList(i, Math.min(i + batch, n)));
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    /** Median time of one full batch on the engine, in ms. */
    private static double batchComputeMs(InferenceEngine engine, String model, int batch) {
        List<InferenceRequest> requests = requests(model, batch);
        long[] times = new long[51];
        for (int r = 0; r < times.length; r++) {
            long t0 = System.nanoTime();
            engine.infer(requests);
            times[r] = System.nanoTime() - t0;
        }
        Arrays.sort(times);
        return times[times.length / 2] / 1e6;
    }

    private static List<InferenceRequest> requests(String model, int n) {
        List<InferenceRequest> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            requests.add(new InferenceRequest(model, new EmbeddingsInput(List.of(text(i)))));
        }
        return requests;
    }

    private static String describe(ClientQuota q) {
        return String.format("produce %d MiB/s, fetch %d MiB/s, %.0f %% request time", q.produceBytesPerSecond() >> 20,
                q.fetchBytesPerSecond() >> 20, q.requestPercentage());
    }

    /** Text {@code i} of the benchmark: sentence-like, about 12 word pieces. */
    static String text(int i) {
        return "line " + i + " of the batch: the quarterly report mentions item " + (i % 97);
    }
}
