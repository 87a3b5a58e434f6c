package io.sealstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.service.DocumentedTable;
import io.sealstream.service.ServiceSettings;
import io.sealstream.service.SettingsException;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.ClientCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerSettingsTest {
    private static Map<String, String> minimal() {
        Map<String, String> m = new HashMap<>();
        m.put("worker.id", "w1");
        m.put("kafka.bootstrap.servers", "kafka-0:9093");
        m.put("kafka.security.protocol", "PLAINTEXT");
        m.put("schema.registry.url", "http://registry:8081");
        m.put("key.broker.url", "http://key-broker:8090");
        m.put("state.dir", "/var/lib/sealstream/state");
        return m;
    }

    /** A mounted Secret's 'password' key, with {@code perms}. */
    private static Path passwordFile(Path dir, String perms) throws Exception {
        Path password = dir.resolve("password");
        Files.writeString(password, "c2VjcmV0");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString(perms));
        return password;
    }

    private static WorkerConfig config(Map<String, String> settings) {
        ServiceSettings s = WorkerSettings.SCHEMA.load(null, Map.of(), settings);
        return WorkerMain.config(s);
    }

    @Test
    void docsConfigurationHoldsTheWorkersSettingsAsTheCodeDeclaresThem() throws Exception {
        DocumentedTable.assertConfigurationDocHolds("worker-settings", WorkerSettings.SCHEMA.markdown());
    }

    @Test
    void unsetSettingsTakeTheStreamProcessorsDefaults() {
        WorkerConfig c = config(minimal());

        assertThat(c.streams().maxBatchSize()).isEqualTo(StreamProcessorConfig.DEFAULT_MAX_BATCH_SIZE);
        assertThat(c.streams().batchLinger()).isEqualTo(StreamProcessorConfig.DEFAULT_BATCH_LINGER);
        assertThat(c.healthAddress()).isEqualTo(WorkerConfig.DEFAULT_HEALTH_ADDRESS);
        assertThat(c.streams().stateDir()).isEqualTo(Path.of("/var/lib/sealstream/state"));
    }

    @Test
    void aPoolReadsItsOwnFamilyUnderItsOwnApplicationId() {
        Map<String, String> m = minimal();
        m.put("pool", "chat");

        WorkerConfig c = config(m);

        assertThat(c.streams().requestTopicFamily()).isEqualTo("sealstream.requests-chat");
        assertThat(c.streams().applicationId()).isEqualTo("sealstream-worker.chat");
    }

    @Test
    void streamsSettingsPassThroughToKafkaStreams() {
        Map<String, String> m = minimal();
        m.put("streams.session.timeout.ms", "6000");

        assertThat(config(m).streams().streamsProperties()).containsEntry("session.timeout.ms", "6000");
    }

    @Test
    void aStreamsSettingCannotSwitchOffExactlyOnce() {
        Map<String, String> m = minimal();
        m.put("streams." + StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);

        assertThatThrownBy(() -> config(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be overridden").hasMessageContaining("exactly-once");
    }

    @Test
    void aStreamsSettingCannotSkipRequestsOfANewClientsTopic() {
        Map<String, String> m = minimal();
        m.put("streams.consumer.auto.offset.reset", "latest");

        assertThatThrownBy(() -> config(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("consumer.auto.offset.reset cannot be overridden");
    }

    @Test
    void aStreamsSettingCannotInstallAnExceptionHandlerThatCommitsWithoutAnAnswer() {
        Map<String, String> m = minimal();
        m.put("streams." + StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
                "org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler");

        assertThatThrownBy(() -> config(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cannot be overridden");
    }

    @Test
    void aStreamsSettingCannotChangeTheConnectionsSecurity() {
        Map<String, String> m = minimal();
        m.put("streams.producer.ssl.truststore.location", "/tmp/evil.jks");

        assertThatThrownBy(() -> config(m)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.* settings");
    }

    @Test
    void saslSslWithoutCredentialsIsRefusedNamingTheSetting() {
        Map<String, String> m = minimal();
        m.remove("kafka.security.protocol");

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class)
                .hasMessageContaining("give either kafka.credentials.file").hasMessageContaining("kafka.password.file");
    }

    @Test
    void aUserNameWithAMountedSecretsPasswordFileLogsInAsThatUser(@TempDir Path dir) throws Exception {
        Path password = passwordFile(dir, "r--------");
        Map<String, String> m = minimal();
        m.remove("kafka.security.protocol");
        m.put("kafka.username", "sealstream-worker");
        m.put("kafka.password.file", password.toString());

        assertThat(config(m).streams().kafkaSecurity().credentials())
                .isEqualTo(new ClientCredentials("sealstream-worker", "c2VjcmV0"));
    }

    @Test
    void aCredentialsFileAndAPasswordFileTogetherAreRefused(@TempDir Path dir) {
        Map<String, String> m = minimal();
        m.remove("kafka.security.protocol");
        m.put("kafka.credentials.file", dir.resolve("worker.credentials").toString());
        m.put("kafka.username", "sealstream-worker");
        m.put("kafka.password.file", dir.resolve("password").toString());

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class).hasMessageContaining("both were given");
    }

    @Test
    void aPasswordFileWithoutAUserNameIsRefused(@TempDir Path dir) {
        Map<String, String> m = minimal();
        m.remove("kafka.security.protocol");
        m.put("kafka.password.file", dir.resolve("password").toString());

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class).hasMessageContaining("kafka.username");
    }

    @Test
    void aPasswordFileOthersMayReadIsRefusedNamingTheSetting(@TempDir Path dir) throws Exception {
        Path password = passwordFile(dir, "rw-r--r--");
        Map<String, String> m = minimal();
        m.remove("kafka.security.protocol");
        m.put("kafka.username", "sealstream-worker");
        m.put("kafka.password.file", password.toString());

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class)
                .hasMessageContaining("kafka.password.file from").hasMessageNotContaining("c2VjcmV0");
    }

    @Test
    void anIllegalPoolNameIsRefused() {
        Map<String, String> m = minimal();
        m.put("pool", "Chat.Pool");

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class)
                .hasMessageContaining("pool").hasMessageContaining("lower-case letters or digits");
    }

    @Test
    void aLingerThatIsNotANumberIsRefused() {
        Map<String, String> m = minimal();
        m.put("batch.linger.ms", "fast");

        assertThatThrownBy(() -> config(m)).isInstanceOf(SettingsException.class)
                .hasMessageContaining("batch.linger.ms").hasMessageContaining("a whole number");
    }

    @Test
    void theTransactionTimeoutArrivesInTheStreamsConfig() {
        Map<String, String> m = minimal();
        m.put("transaction.timeout.ms", "10000");

        assertThat(config(m).streams().transactionTimeout()).isEqualTo(Duration.ofSeconds(10));
    }
}
