package io.sealstream.cli.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.SealstreamCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sealstream attestation policy-diff}: a revoked model shows as removed and the exit code says that something changed. */
class PolicyDiffCommandTest {
    @Test
    void aRevokedModelIsShownAsRemovedAndTheExitCodeIsOne(@TempDir Path dir) throws Exception {
        String policy = "version: 1\nallow-simulated: true\nmodels: [%s]\ntee:\n  snp:\n    measurements: ['" + "ab".repeat(48) + "']\n";
        Path before = Files.writeString(dir.resolve("before.yaml"), policy.formatted("'" + "11".repeat(32) + "', '" + "22".repeat(32) + "'"));
        Path after = Files.writeString(dir.resolve("after.yaml"), policy.formatted("'" + "22".repeat(32) + "'"));
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new SealstreamCommand()).execute("attestation", "policy-diff", before.toString(), after.toString());
        } finally {
            System.setOut(original);
        }

        assertThat(exit).isEqualTo(1);
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains("- models: " + "11".repeat(32)).contains("1 changes");
    }
}
