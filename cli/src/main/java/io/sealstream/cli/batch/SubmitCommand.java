package io.sealstream.cli.batch;

import io.sealstream.client.ConnectionFile;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.batch.BatchJob;
import io.sealstream.client.batch.BatchStatus;
import io.sealstream.client.batch.InvalidLine;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream submit}: an OpenAI Batch JSONL file through the confidential pipeline, with
 * validation first, bounded requests in flight, progress, and resumption by running it again.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Send an OpenAI Batch JSONL file; run the same command again to resume it.")
public final class SubmitCommand implements Callable<Integer> {
    private static final AtomicLong PEAK_HEAP = new AtomicLong();

    @Option(names = "--input", required = true, description = "OpenAI Batch input (JSON Lines).")
    Path input;

    @Option(names = "--output", required = true, description = "Results, one JSON line per answered custom_id.")
    Path output;

    @Option(names = "--errors", description = "Failed lines (default <output>.errors.jsonl).")
    Path errors;

    @Option(names = "--connection", required = true, description = "Connection file ('sealstream up' writes one).")
    Path connection;

    @Option(names = "--client-id", description = "Client id; must be the connection's (its credentials name the client).")
    String clientId;

    @Option(names = "--skip-invalid", description = "Send the valid lines even if some are invalid.")
    boolean skipInvalid;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Requests in flight at most (default ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--request-timeout-s", defaultValue = "300", description = "Per-request timeout (default ${DEFAULT-VALUE}).")
    long requestTimeoutSeconds;

    @Option(names = "--journal-dir", description = "Job journals (default ~/.sealstream/batches).")
    Path journalDir;

    @Option(names = "--progress", defaultValue = "auto", description = "auto, bar or lines (default ${DEFAULT-VALUE}).")
    String progress;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        ConnectionFile conn = ConnectionFile.read(connection);
        String own = conn.kafkaSecurity().username();
        if (clientId != null && !clientId.equals(own)) {
            System.err.println("sealstream submit: the connection file is client '" + own + "'s, not '" + clientId
                    + "'; use that client's connection file or drop --client-id");
            return 2;
        }
        boolean terminal = "bar".equals(progress) || "auto".equals(progress) && System.console() != null;
        try (SealstreamClient client = conn.clientBuilder().requestTimeout(Duration.ofSeconds(requestTimeoutSeconds))
                .build()) {
            BatchJob.Builder b = BatchJob.builder(client, input, output).errors(errors).skipInvalid(skipInvalid)
                    .maxInFlight(maxInFlight).requestTimeout(Duration.ofSeconds(requestTimeoutSeconds));
            if (journalDir != null) {
                b.journalRoot(journalDir);
            }
            BatchJob job = b.build();
            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                job.cancel(); // Ctrl-C: stop sending, write what is in flight, mark the job cancelled
                try {
                    finished.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "sealstream-submit-cancel");
            Runtime.getRuntime().addShutdownHook(hook);
            BatchJob.Summary s;
            ScheduledExecutorService heap = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "heap-sampler");
                t.setDaemon(true);
                return t;
            });
            heap.scheduleAtFixedRate(() -> PEAK_HEAP.accumulateAndGet(
                    ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max), 0, 50, TimeUnit.MILLISECONDS);
            try {
                s = job.run(new ProgressPrinter(System.err, terminal, Duration.ofSeconds(5)));
                heap.shutdownNow(); // the summary's peak covers the job, not the printing
                print(out, s);
            } finally {
                heap.shutdownNow();
                finished.countDown(); // after the summary: on Ctrl-C the hook holds the JVM until it is printed
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running and has been released above
            }
            return switch (s.status()) {
                case COMPLETED -> 0;
                case CANCELLED -> 130;
                default -> s.validation().allValid() || skipInvalid ? 1 : 3;
            };
        }
    }

    private static void print(PrintStream out, BatchJob.Summary s) {
        if (s.status() == BatchStatus.FAILED && !s.validation().allValid() && s.progress().sent() == 0) {
            out.printf("%d of %d lines are invalid; nothing was sent:%n", s.validation().invalidCount(), s.validation().lines());
            for (InvalidLine bad : s.validation().invalid()) {
                out.printf("  line %d%s: %s%n", bad.lineNumber(), bad.customId() == null ? "" : " (" + bad.customId() + ")",
                        bad.reason());
            }
            if (s.validation().invalidCount() > s.validation().invalid().size()) {
                out.printf("  ... and %d more%n", s.validation().invalidCount() - s.validation().invalid().size());
            }
            out.println("Fix them, or pass --skip-invalid to send the valid lines.");
        }
        out.printf("batch %s %s: %d lines, %d answered, %d failed, %d done by an earlier run, %.1f lines/s, "
                        + "peak heap %d MiB%s%n", s.jobId(), s.status().id(), s.progress().total(), s.progress().answered(),
                s.progress().failed(), s.progress().alreadyDone(), s.progress().rate(), peakHeapMiB(),
                s.reason() == null ? "" : " (" + s.reason() + ")");
    }

    /** The most heap in use seen by the sampler while the job ran. */
    static long peakHeapMiB() {
        return PEAK_HEAP.get() >> 20;
    }
}
