package io.sealstream.cli.stack;

import io.sealstream.cli.bench.CommittedRecords;
import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.SealstreamCommand;
import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.envelope.EnvelopeProtocol;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker process killed with SIGKILL in the middle of a run, and a replacement started: every
 * request is still answered, exactly once on the topic. The workers run as separate JVMs
 * ({@code sealstream worker}) beside the embedded stack.
 */
class WorkerCrashTest {
    private static final int REQUESTS = 200;
    private static LocalStack stack;
    private static final List<Process> workers = new ArrayList<>();

    @BeforeAll
    static void startStack() {
        stack = LocalStack.start(new LocalStack.Options().workers(0).partitions(4).clients(List.of("acme"))
                .engine(Engines::defaultEmbeddings));
    }

    @AfterAll
    static void stopStack() {
        workers.forEach(Process::destroyForcibly);
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void aWorkerKilledMidRunIsReplacedAndEveryRequestIsAnsweredExactlyOnce() throws Exception {
        Process first = startWorker("crash-a");
        String model = stack.engine().models().iterator().next();
        List<CompletableFuture<EmbeddingResult>> futures = new ArrayList<>();
        try (SealstreamClient client = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(150)).build()) {
            for (int i = 0; i < REQUESTS; i++) {
                futures.add(client.embeddings().create("req-" + i, model, List.of("note " + i + " for the crash test")));
                if (i % 20 == 19) {
                    Thread.sleep(100); // a steady stream, so the kill lands mid-run
                }
                if (i == REQUESTS / 2) {
                    awaitAnswered(client, 20);
                    long answeredAtKill = client.stats().answered();
                    first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                    assertThat(answeredAtKill).as("requests still in flight when the worker died").isLessThan(i + 1);
                    assertThat(first.isAlive()).isFalse();
                    startWorker("crash-b");
                }
            }
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(180, TimeUnit.SECONDS);

            assertThat(futures).allSatisfy(f -> assertThat(f.get().embeddings()).hasSize(1));
            assertThat(client.stats().answered()).isEqualTo(REQUESTS);
        }
        Map<String, Integer> counts = CommittedRecords.answerCounts(stack, EnvelopeProtocol.responseTopicFor("acme"));
        assertThat(counts).hasSize(REQUESTS);
        assertThat(counts.values()).as("every request answered exactly once").allMatch(n -> n == 1);
    }

    private static void awaitAnswered(SealstreamClient client, int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (client.stats().answered() < n && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(client.stats().answered()).as("answers before the kill").isGreaterThanOrEqualTo(n);
    }

    private static Process startWorker(String id) throws IOException, InterruptedException {
        Path log = Files.createTempFile("sealstream-" + id + "-", ".log");
        ProcessBuilder pb = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"),
                SealstreamCommand.class.getName(), "worker",
                "--bootstrap-servers", stack.kafka().bootstrapServers(),
                "--schema-registry", stack.registry().url(),
                "--key-broker", stack.keyBroker().url(),
                "--worker-id", id,
                "--state-dir", stack.dataDir().resolve("workers").resolve(id).toString(),
                "--tee", "simulated", "--simulated-tee-dir", stack.simulatedTeeDir().toString(),
                // a dead worker's open transaction blocks readers until it times out; keep that short here
                "--transaction-timeout-ms", "10000",
                "--streams-config", "session.timeout.ms=6000,heartbeat.interval.ms=1000")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        Process p = pb.start();
        workers.add(p);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readString(log).contains("worker " + id + " started")) {
                return p;
            }
            assertThat(p.isAlive()).as("worker %s exited early; its log: %s", id, log).isTrue();
            Thread.sleep(200);
        }
        throw new AssertionError("worker " + id + " did not start within 90 s; its log: " + log);
    }
}
