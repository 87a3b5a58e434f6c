package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class ServiceLoggingTest {
    private static final Logger LOG = LoggerFactory.getLogger("io.sealstream.test.logging");
    private final PrintStream realErr = System.err;
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @AfterEach
    void backToTheConsole() {
        System.setErr(realErr);
        ServiceLogging.console(ServiceLogging.Format.TEXT);
    }

    @Test
    void toFileSendsEveryLineToTheFileAndNoneToTheConsole(@TempDir Path dir) throws Exception {
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        Path file = dir.resolve("sealstream.log");

        ServiceLogging.toFile(file);
        LOG.info("test.to_file request_id=r-1 code=none");

        assertThat(Files.readString(file)).contains("INFO").contains("test.to_file request_id=r-1 code=none");
        assertThat(err.toString(StandardCharsets.UTF_8)).doesNotContain("test.to_file");
    }

    @Test
    void jsonFormatWritesOneObjectPerLineWithTheEventAsMessage() throws Exception {
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));

        ServiceLogging.console(ServiceLogging.Format.JSON);
        LOG.warn("test.json worker_id={} code={}", "w-1", "engine_failure");

        String line = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("test.json")).findFirst()
                .orElseThrow();
        JsonNode event = new ObjectMapper().readTree(line);
        assertThat(event.path("level").asText()).isEqualTo("WARN");
        assertThat(event.path("loggerName").asText()).isEqualTo("io.sealstream.test.logging");
        assertThat(event.path("formattedMessage").asText()).isEqualTo("test.json worker_id=w-1 code=engine_failure");
    }

    @Test
    void theFormatSettingTakesTextOrJsonAndNamesBothOtherwise() {
        assertThat(ServiceLogging.Format.parse(" JSON ")).isEqualTo(ServiceLogging.Format.JSON);
        assertThatThrownBy(() -> ServiceLogging.Format.parse("xml")).isInstanceOf(SettingsException.class)
                .hasMessage("log.format is text or json, not 'xml'");
    }
}
