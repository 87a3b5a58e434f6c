package io.sealstream.cli.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.SealstreamCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sealstream attestation init-data}: the document it writes is the one whose digest it prints. */
class InitDataCommandTest {
    @Test
    void thePrintedDigestIsTheWrittenDocumentsSha384ForTdx(@TempDir Path dir) throws Exception {
        Path settings = Files.writeString(dir.resolve("worker.properties"), "tee=auto\n");
        Path rego = Files.writeString(dir.resolve("policy.rego"), "package agent_policy\n");
        Path out = dir.resolve("initdata.toml");
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new SealstreamCommand()).execute("attestation", "init-data", "--file", settings.toString(),
                    "--file", rego.toString(), "--algorithm", "sha384", "--out", out.toString());
        } finally {
            System.setOut(original);
        }

        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-384").digest(Files.readAllBytes(out)));
        assertThat(exit).isZero();
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains("digest " + digest).contains("tee.tdx.mrconfigid");
        assertThat(Files.readString(dir.resolve("initdata.toml.annotation"))).isNotBlank();
    }
}
