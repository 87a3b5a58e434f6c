package io.sealstream.cli.bench;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.LocalStack;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.worker.engine.SyntheticEngine;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.ObjectName;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench tenancy}: what Kafka-layer tenancy costs and what it buys, side by side
 * in one run on the embedded stack with the synthetic engine (pipeline only).
 * <ol>
 *   <li>Overhead: the same load on a PLAINTEXT broker without an authorizer and on the secured
 *       one (SASL_SSL, SCRAM-SHA-512, ACLs): requests/s and client-side latency.</li>
 *   <li>Quota: a victim client's latency alone, while another client floods its request topic
 *       under the default quota, and while it floods with a quota too large to bite.</li>
 * </ol>
 */
@Command(name = "tenancy", mixinStandardHelpOptions = true,
        description = "SASL_SSL + ACL overhead against a PLAINTEXT broker, and a victim's latency under a flooding tenant.")
public final class TenancyBench implements Callable<Integer> {
    @Option(names = "--requests", defaultValue = "6000", description = "Requests per overhead run (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--in-flight", defaultValue = "512", description = "Requests in flight in overhead runs (default ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(names = "--rounds", defaultValue = "2", description = "Overhead runs per mode, interleaved (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--seconds", defaultValue = "20", description = "Length of each quota phase (default ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--only", split = ",", description = "overhead, quota (default both).")
    List<String> only = new ArrayList<>(List.of("overhead", "quota"));

    private static final String MODEL = SyntheticEngine.MODEL;

    @Override
    public Integer call() throws Exception {
        System.out.println("Tenancy on the embedded stack (2 workers, 4 partitions, synthetic engine)");
        if (only.contains("overhead")) {
            overhead();
        }
        if (only.contains("quota")) {
            quota();
        }
        return 0;
    }

    private static LocalStack.Options options() {
        return new LocalStack.Options().workers(2).partitions(4).maxBatchSize(64).batchLinger(Duration.ofMillis(20))
                .engine(SyntheticEngine::new).clients(List.of("bench"));
    }

    private void overhead() throws Exception {
        System.out.println();
        System.out.printf("%-34s %10s %10s %10s%n", "broker", "req/s", "p50 ms", "p99 ms");
        double[] sum = new double[2];
        // round -1 warms this JVM up (JIT, class loading) and is not reported: the first stack of a
        // process is slower whatever its broker; later rounds alternate which mode goes first
        for (int round = -1; round < rounds; round++) {
            for (int k = 0; k < 2; k++) {
                int secured = round < 0 ? k : (round % 2 == 0 ? k : 1 - k);
                LocalStack.Options o = options();
                if (secured == 0) {
                    o.plaintextKafka();
                }
                try (LocalStack stack = LocalStack.start(o)) {
                    stack.awaitWorkersReady(Duration.ofSeconds(120));
                    try (SealstreamClient client = stack.clientBuilder("bench").requestTimeout(Duration.ofMinutes(2)).build()) {
                        closedLoop(client, Math.min(requests, 500), inFlight, "warm-up ");
                        Run r = closedLoop(client, requests, inFlight, "r");
                        if (round < 0) {
                            continue;
                        }
                        sum[secured] += r.perSecond();
                        System.out.printf("%-34s %10.0f %10.1f %10.1f%n", secured == 0 ? "PLAINTEXT, no authorizer"
                                : "SASL_SSL SCRAM-SHA-512 + ACLs", r.perSecond(), r.p(0.50), r.p(0.99));
                    }
                }
            }
        }
        System.out.printf("secured / plaintext throughput: %.2f (mean of %d runs each)%n", sum[1] / sum[0], rounds);
    }

    private void quota() throws Exception {
        System.out.println();
        try (LocalStack stack = LocalStack.start(options().clients(List.of("victim", "flooder")))) {
            stack.awaitWorkersReady(Duration.ofSeconds(120));
            try (SealstreamClient victim = stack.clientBuilder("victim").requestTimeout(Duration.ofMinutes(2)).build();
                 SealstreamClient flooder = stack.clientBuilder("flooder").requestTimeout(Duration.ofMinutes(5)).build()) {
                closedLoop(victim, 300, 8, "warm-up ");
                closedLoop(flooder, 300, 64, "warm-up ");
                System.out.printf("%-44s %9s %9s %9s %12s %12s%n", "phase", "victim/s", "p50 ms", "p99 ms", "flood req/s",
                        "throttle ms");
                Phase alone = phase(victim, null, "victim alone");
                ClientQuota d = ClientQuota.DEFAULT;
                Phase quota = phase(victim, flooder, String.format("flood, default quota (%d KiB/s in)",
                        d.produceBytesPerSecond() >> 10));
                stack.setQuota("flooder", new ClientQuota(1L << 30, 1L << 30, 1000));
                Phase unlimited = phase(victim, flooder, "flood, quota too large to bite");
                System.out.printf("victim p99 under flood / alone: %.1fx with the default quota, %.1fx without%n",
                        quota.victim.p(0.99) / alone.victim.p(0.99), unlimited.victim.p(0.99) / alone.victim.p(0.99));
            }
        }
    }

    private record Phase(Run victim, double floodPerSecond) {
    }

    /** The victim sends with 8 in flight for {@link #seconds}; the flooder, if any, as fast as it is let. */
    private Phase phase(SealstreamClient victim, SealstreamClient flooder, String name) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong flooded = new AtomicLong();
        Thread flood = null;
        if (flooder != null) {
            // 32 texts of 256 bytes: about 9 KiB a request, so the byte quota is what limits it
            List<String> texts = Collections.nCopies(32, "x".repeat(256));
            flood = new Thread(() -> {
                Semaphore slots = new Semaphore(2048);
                while (!stop.get()) {
                    try {
                        if (!slots.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                            continue;
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    flooder.embeddings().create(MODEL, texts).whenComplete((r, e) -> {
                        slots.release();
                        if (e == null) {
                            flooded.incrementAndGet();
                        }
                    });
                }
            }, "bench-flooder");
            flood.start();
            Thread.sleep(3000); // let the flood build a backlog first
        }
        double throttleBefore = throttleMillis("flooder");
        long floodBefore = flooded.get();
        long t0 = System.nanoTime();
        Run r = timed(victim, Duration.ofSeconds(seconds), 8);
        double elapsed = (System.nanoTime() - t0) / 1e9;
        double floodRate = (flooded.get() - floodBefore) / elapsed;
        double throttle = throttleMillis("flooder");
        stop.set(true);
        if (flood != null) {
            flood.join();
        }
        System.out.printf("%-44s %9.0f %9.1f %9.1f %12.0f %12.1f%n", name, r.perSecond(), r.p(0.50), r.p(0.99), floodRate,
                flooder == null ? 0.0 : Math.max(throttle, throttleBefore));
        if (flooder != null) {
            closedLoop(victim, 16, 8, "drain "); // the flood's backlog does not spill into the next phase's figures
            Thread.sleep(2000);
        }
        return new Phase(r, floodRate);
    }

    /** The producer's own report of how long the broker held its requests back (avg ms), read over JMX. */
    private static double throttleMillis(String clientId) {
        try {
            var server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName("kafka.producer:type=producer-metrics,client-id=sealstream-client-" + clientId);
            Object v = server.getAttribute(name, "produce-throttle-time-avg");
            return v instanceof Double d && !d.isNaN() ? d : 0.0;
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    private record Run(List<Long> nanos, double seconds) {
        double perSecond() {
            return nanos.size() / seconds;
        }

        double p(double q) {
            List<Long> s = new ArrayList<>(nanos);
            Collections.sort(s);
            return s.isEmpty() ? 0 : s.get(Math.min(s.size() - 1, (int) (s.size() * q))) / 1e6;
        }
    }

    private static Run closedLoop(SealstreamClient client, int n, int inFlight, String idPrefix) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        List<Long> nanos = Collections.synchronizedList(new ArrayList<>(n));
        List<CompletableFuture<EmbeddingResult>> all = new ArrayList<>(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            slots.acquire();
            long start = System.nanoTime();
            all.add(client.embeddings().create(MODEL, List.of(idPrefix + i)).whenComplete((r, e) -> {
                nanos.add(System.nanoTime() - start);
                slots.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        return new Run(List.copyOf(nanos), (System.nanoTime() - t0) / 1e9);
    }

    private static Run timed(SealstreamClient client, Duration length, int inFlight) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        List<Long> nanos = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<EmbeddingResult>> all = new ArrayList<>();
        long t0 = System.nanoTime();
        long end = t0 + length.toNanos();
        int i = 0;
        while (System.nanoTime() < end) {
            if (!slots.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                continue;
            }
            long start = System.nanoTime();
            all.add(client.embeddings().create(MODEL, List.of("victim " + i++)).whenComplete((r, e) -> {
                nanos.add(System.nanoTime() - start);
                slots.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        return new Run(List.copyOf(nanos), (System.nanoTime() - t0) / 1e9);
    }
}
