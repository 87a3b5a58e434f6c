package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsSchemaTest {
    private static final Setting URL = Setting.required("key.broker.url", "Key broker URL.");
    private static final Setting LINGER = Setting.withDefault("batch.linger.ms", 100, "Batch linger.");
    private static final Setting CA = Setting.optional("kafka.ca.file", "CA file.");
    private static final SettingsSchema SCHEMA = SettingsSchema.of("worker", "SEALSTREAM_WORKER_", URL, LINGER, CA)
            .passThrough("streams", "Kafka Streams settings.");

    @TempDir
    Path dir;

    private Path file(String text) throws Exception {
        Path f = dir.resolve("worker.properties");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void theEnvironmentOverridesTheFileAndAnOverrideBoth() throws Exception {
        Path f = file("key.broker.url=http://file\nbatch.linger.ms=20\n");

        ServiceSettings fromEnv = SCHEMA.load(f, Map.of("SEALSTREAM_WORKER_BATCH_LINGER_MS", "30"), Map.of());
        ServiceSettings overridden = SCHEMA.load(f, Map.of("SEALSTREAM_WORKER_BATCH_LINGER_MS", "30"),
                Map.of("batch.linger.ms", "40"));

        assertThat(fromEnv.millis(LINGER, Duration.ZERO)).isEqualTo(Duration.ofMillis(30));
        assertThat(fromEnv.string(URL)).isEqualTo("http://file");
        assertThat(fromEnv.source(LINGER)).isEqualTo("environment variable SEALSTREAM_WORKER_BATCH_LINGER_MS");
        assertThat(overridden.millis(LINGER, Duration.ZERO)).isEqualTo(Duration.ofMillis(40));
    }

    @Test
    void anUnsetSettingTakesItsDefaultAndAnOptionalOneIsEmpty() throws Exception {
        ServiceSettings s = SCHEMA.load(file("key.broker.url=http://kb\n"), Map.of(), Map.of());

        assertThat(s.millis(LINGER, Duration.ZERO)).isEqualTo(Duration.ofMillis(100));
        assertThat(s.source(LINGER)).isEqualTo("the default");
        assertThat(s.path(CA)).isEmpty();
    }

    @Test
    void aMissingRequiredSettingIsRefusedNamingItsVariable() {
        assertThatThrownBy(() -> SCHEMA.load(null, Map.of(), Map.of())).isInstanceOf(SettingsException.class)
                .hasMessageContaining("key.broker.url is required").hasMessageContaining("SEALSTREAM_WORKER_KEY_BROKER_URL");
    }

    @Test
    void everyMissingRequiredSettingIsNamedAtOnce() {
        Setting id = Setting.required("worker.id", "Worker id.");
        SettingsSchema two = SettingsSchema.of("worker", "SEALSTREAM_WORKER_", URL, id);

        assertThatThrownBy(() -> two.load(null, Map.of(), Map.of())).isInstanceOf(SettingsException.class)
                .hasMessageContaining("2 required settings are missing")
                .hasMessageContaining("key.broker.url (SEALSTREAM_WORKER_KEY_BROKER_URL)")
                .hasMessageContaining("worker.id (SEALSTREAM_WORKER_WORKER_ID)");
    }

    @Test
    void aMisspeltKeyInTheFileIsRefusedWithTheNearestKnownOne() throws Exception {
        Path f = file("key.broker.url=http://kb\nbatch.lingr.ms=5\n");

        assertThatThrownBy(() -> SCHEMA.load(f, Map.of(), Map.of())).isInstanceOf(SettingsException.class)
                .hasMessageContaining("unknown setting 'batch.lingr.ms'").hasMessageContaining("did you mean batch.linger.ms?");
    }

    @Test
    void anUnknownVariableWithTheServicesPrefixIsRefused() {
        Map<String, String> env = Map.of("SEALSTREAM_WORKER_KEY_BROKER_URL", "http://kb", "SEALSTREAM_WORKER_BATCH_LINGER", "5",
                "SEALSTREAM_KEY_BROKER_PORT", "1", "PATH", "/bin");

        assertThatThrownBy(() -> SCHEMA.load(null, env, Map.of())).isInstanceOf(SettingsException.class)
                .hasMessageContaining("SEALSTREAM_WORKER_BATCH_LINGER").hasMessageContaining("SEALSTREAM_WORKER_BATCH_LINGER_MS");
    }

    @Test
    void kubernetesServiceLinksOfAServiceNamedLikeThePrefixAreNotSettings() throws Exception {
        Map<String, String> env = Map.of("SEALSTREAM_WORKER_PORT", "tcp://10.0.0.7:8080",
                "SEALSTREAM_WORKER_SERVICE_HOST", "10.0.0.7", "SEALSTREAM_WORKER_SERVICE_PORT", "8080",
                "SEALSTREAM_WORKER_PORT_8080_TCP_ADDR", "10.0.0.7");

        ServiceSettings s = SCHEMA.load(file("key.broker.url=http://kb\n"), env, Map.of());

        assertThat(s.string(URL)).isEqualTo("http://kb");
    }

    @Test
    void aBlankVariableDoesNotHideTheFilesValue() throws Exception {
        ServiceSettings s = SCHEMA.load(file("key.broker.url=http://kb\nbatch.linger.ms=20\n"),
                Map.of("SEALSTREAM_WORKER_BATCH_LINGER_MS", " "), Map.of());

        assertThat(s.millis(LINGER, Duration.ZERO)).isEqualTo(Duration.ofMillis(20));
    }

    @Test
    void aValueOfTheWrongFormIsRefusedWithoutRepeatingIt() throws Exception {
        ServiceSettings s = SCHEMA.load(file("key.broker.url=http://kb\nbatch.linger.ms=s3cret-token\n"), Map.of(), Map.of());

        assertThatThrownBy(() -> s.millis(LINGER, Duration.ZERO)).isInstanceOf(SettingsException.class)
                .hasMessageContaining("batch.linger.ms (from worker.properties (batch.linger.ms)) must be a whole number")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void aNumberOutOfRangeIsRefused() throws Exception {
        ServiceSettings s = SCHEMA.load(file("key.broker.url=http://kb\nbatch.linger.ms=-1\n"), Map.of(), Map.of());

        assertThatThrownBy(() -> s.millis(LINGER, Duration.ZERO)).hasMessageContaining("a number from 0 to");
    }

    @Test
    void passThroughKeysArriveWithoutTheirGroupFromFileAndEnvironment() throws Exception {
        Path f = file("key.broker.url=http://kb\nstreams.session.timeout.ms=6000\n");

        ServiceSettings s = SCHEMA.load(f, Map.of("SEALSTREAM_WORKER_STREAMS_HEARTBEAT_INTERVAL_MS", "1000"), Map.of());

        assertThat(s.passThrough("streams")).containsExactly(Map.entry("heartbeat.interval.ms", "1000"),
                Map.entry("session.timeout.ms", "6000"));
    }

    @Test
    void aConfigFileThatDoesNotExistIsNamed() {
        assertThatThrownBy(() -> SCHEMA.load(dir.resolve("nope.properties"), Map.of(), Map.of()))
                .isInstanceOf(SettingsException.class).hasMessageContaining("nope.properties does not exist");
    }

    @Test
    void theTemplateIsAFileTheSchemaLoads() throws Exception {
        Path f = file(SCHEMA.template().replace("key.broker.url=", "key.broker.url=http://kb"));

        assertThat(SCHEMA.load(f, Map.of(), Map.of()).string(URL)).isEqualTo("http://kb");
    }

    @Test
    void theMarkdownTableListsEveryVariable() {
        assertThat(SCHEMA.markdown()).contains("| `batch.linger.ms` | `SEALSTREAM_WORKER_BATCH_LINGER_MS` | `100` |")
                .contains("| `key.broker.url` | `SEALSTREAM_WORKER_KEY_BROKER_URL` | required |")
                .contains("| `streams.*` | `SEALSTREAM_WORKER_STREAMS_*` | none |");
    }
}
