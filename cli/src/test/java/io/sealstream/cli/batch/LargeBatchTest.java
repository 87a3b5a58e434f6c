package io.sealstream.cli.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.SealstreamCommand;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 100,000-line batch through the real stack with the synthetic engine, submitted by a JVM whose
 * heap is capped at 64 MiB: backpressure, not memory, bounds the job.
 */
@WithLocalStack
class LargeBatchTest {
    private static final int LINES = Integer.getInteger("sealstream.largeBatch.lines", 100_000);

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(2).partitions(4).maxBatchSize(64).batchLinger(Duration.ofMillis(20))
                .engine(SyntheticEngine::new);
    }

    @Test
    void aHundredThousandLinesRunInASixtyFourMebibyteHeap(LocalStack stack, @TempDir Path dir) throws Exception {
        Path input = dir.resolve("large.jsonl");
        try (BufferedWriter w = Files.newBufferedWriter(input, StandardCharsets.UTF_8)) {
            for (int i = 0; i < LINES; i++) {
                w.write("{\"custom_id\":\"l-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\""
                        + SyntheticEngine.MODEL + "\",\"input\":\"line " + i + "\"}}\n");
            }
        }
        Path output = dir.resolve("large-out.jsonl");
        Path connection = dir.resolve("connection.properties");
        stack.writeConnection("demo", connection);
        Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), SealstreamCommand.class.getName(), "submit",
                "--input", input.toString(), "--output", output.toString(), "--connection", connection.toString(),
                "--journal-dir", dir.resolve("journal").toString(), "--max-in-flight", "256", "--progress", "lines")
                .redirectErrorStream(true).redirectOutput(dir.resolve("submit.log").toFile()).start();
        assertThat(p.waitFor(15, TimeUnit.MINUTES)).as("submit finished").isTrue();
        String log = Files.readString(dir.resolve("submit.log"));

        assertThat(p.exitValue()).as(log).isZero();
        assertThat(log).contains("completed: " + LINES + " lines, " + LINES + " answered, 0 failed");
        Set<String> ids = new HashSet<>();
        try (var lines = Files.lines(output)) {
            lines.forEach(l -> ids.add(l.substring(l.indexOf("\"custom_id\":\"") + 13, l.indexOf('"', l.indexOf("\"custom_id\":\"") + 13))));
        }
        try (var lines = Files.lines(output)) {
            assertThat(lines.count()).isEqualTo(LINES);
        }
        assertThat(ids).hasSize(LINES);
    }
}
