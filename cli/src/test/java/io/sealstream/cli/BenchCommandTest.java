package io.sealstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchCommandTest {

    @Test
    void envelopeBenchPrintsEveryRowOfItsTable() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new SealstreamCommand()).execute(
                    "bench", "envelope", "--requests", "20", "--sessions", "5", "--warmup", "5");
        } finally {
            System.setOut(original);
        }
        String table = captured.toString(StandardCharsets.UTF_8);

        assertThat(exit).isZero();
        assertThat(table).contains("prompt 1024 bytes, 20 requests, 5 sessions")
                .contains("client seal request")
                .contains("worker open request (warm DEK cache)")
                .contains("session set-up: HPKE wrap (client)")
                .contains("HPKE unwrap (worker)")
                .contains("request round trips per second");
    }

    @Test
    void chatBenchPrintsARowPerBatchSize(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path model = io.sealstream.worker.engine.TinyGguf.write(dir.resolve("tiny.gguf"), 3);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new SealstreamCommand()).execute("bench", "chat", "--no-pipeline", "--model",
                    model.toString(), "--rounds", "1", "--max-tokens", "4", "--batch-sizes", "1,2");
        } finally {
            System.setOut(original);
        }
        String table = captured.toString(StandardCharsets.UTF_8);

        assertThat(exit).isZero();
        assertThat(table).contains("4 slots, tokens/s").contains("1 slot, tokens/s");
        assertThat(table.lines().filter(l -> l.matches("^[12] +[0-9.]+ +[0-9.]+.*"))).hasSize(2);
    }

    @Test
    void withoutASubcommandItPrintsUsage() {
        CommandLine cli = new CommandLine(new SealstreamCommand());
        java.io.StringWriter out = new java.io.StringWriter();
        cli.setOut(new java.io.PrintWriter(out));

        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString()).contains("Usage: sealstream").contains("bench");
    }
}
