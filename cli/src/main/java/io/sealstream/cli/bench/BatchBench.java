package io.sealstream.cli.bench;

import io.sealstream.cli.SealstreamCommand;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.worker.engine.InferenceEngine;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench batch}: an embeddings batch file through {@code sealstream submit} in a
 * child JVM with a small fixed heap (proof of bounded memory), against the embedded stack; prints
 * lines/s, the child's peak heap, and the raw engine's throughput on the same texts in the same run.
 */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Lines/s and peak heap of sealstream submit on an embeddings batch, next to the raw engine.")
public final class BatchBench implements Callable<Integer> {
    @Option(names = "--lines", defaultValue = "100000", description = "Lines in the batch (default ${DEFAULT-VALUE}).")
    int lines;

    @Option(names = "--engine", defaultValue = "synthetic",
            description = "synthetic (pipeline only) or minilm (the real int8 model) (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--max-in-flight", defaultValue = "256", description = "Requests in flight (default ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--submit-heap", defaultValue = "64m", description = "-Xmx of the submitting JVM (default ${DEFAULT-VALUE}).")
    String submitHeap;

    @Option(names = "--workers", defaultValue = "2", description = "Workers (default ${DEFAULT-VALUE}).")
    int workers;

    @Override
    public Integer call() throws Exception {
        Supplier<InferenceEngine> supplier = "minilm".equals(engine) ? Engines::defaultEmbeddings : SyntheticEngine::new;
        Path dir = Files.createTempDirectory("sealstream-batch-bench-");
        try (LocalStack stack = LocalStack.start(new LocalStack.Options().workers(workers).partitions(4)
                .maxBatchSize(64).batchLinger(Duration.ofMillis(20)).engine(supplier))) {
            stack.awaitWorkersReady(Duration.ofSeconds(120));
            String model = stack.engine().models().iterator().next();
            Path input = dir.resolve("batch.jsonl");
            try (BufferedWriter w = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
                for (int i = 0; i < lines; i++) {
                    w.write("{\"custom_id\":\"l-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\""
                            + model + "\",\"input\":\"" + text(i) + "\"}}\n");
                }
            }
            Path connection = dir.resolve("connection.properties");
            stack.writeConnection("demo", connection);
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx" + submitHeap, "-cp", System.getProperty("java.class.path"), SealstreamCommand.class.getName(),
                    "submit", "--input", input.toString(), "--output", dir.resolve("out.jsonl").toString(),
                    "--connection", connection.toString(), "--journal-dir",
                    dir.resolve("journal").toString(), "--max-in-flight", Integer.toString(maxInFlight),
                    "--progress", "lines").redirectErrorStream(true).redirectOutput(dir.resolve("submit.log").toFile()).start();
            int exit = p.waitFor();
            double seconds = (System.nanoTime() - t0) / 1e9;
            String summary = Files.readAllLines(dir.resolve("submit.log")).stream().filter(l -> l.startsWith("batch batch_"))
                    .findFirst().orElse("(no summary: see " + dir.resolve("submit.log") + ")");
            double raw = rawRate(stack.engine(), model);
            System.out.printf("Batch of %d embeddings lines, engine %s, %d workers, %d in flight, submit JVM -Xmx%s%n",
                    lines, model, workers, maxInFlight, submitHeap);
            System.out.println("  submit exit " + exit + ": " + summary);
            System.out.printf("  wall (JVM start to exit)   %.1f s, %.1f lines/s%n", seconds, lines / seconds);
            System.out.printf("  raw engine, batch 64       %.1f lines/s (same texts, same run)%n", raw);
            return exit;
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private double rawRate(InferenceEngine engine, String model) {
        return PipelineBench.rawRate(engine, model, 64, Math.min(lines, 5000));
    }

    private static String text(int i) {
        return PipelineBench.text(i);
    }
}
