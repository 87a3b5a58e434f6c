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
    void withoutASubcommandItPrintsUsage() {
        CommandLine cli = new CommandLine(new SealstreamCommand());
        java.io.StringWriter out = new java.io.StringWriter();
        cli.setOut(new java.io.PrintWriter(out));

        assertThat(cli.execute("--help")).isZero();
        assertThat(out.toString()).contains("Usage: sealstream").contains("bench");
    }
}
