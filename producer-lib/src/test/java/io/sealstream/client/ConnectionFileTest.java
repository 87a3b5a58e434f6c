package io.sealstream.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.KafkaSecurity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connection files as a client receives them, including ones it should refuse. */
class ConnectionFileTest {
    private static final String PIN = "ab".repeat(32);

    @Test
    void aWrittenFileReadsBackWithItsCredentialsBesideIt(@TempDir Path dir) {
        Path creds = dir.resolve("acme.credentials");
        ClientCredentials.generate("acme").write(creds);
        ConnectionFile written = secured(creds);

        written.write(dir.resolve("acme.connection"));
        ConnectionFile read = ConnectionFile.read(dir.resolve("acme.connection"));

        assertThat(read.kafkaSecurity().username()).isEqualTo("acme");
        assertThat(read.workerPools()).containsExactly("default", "gpu");
        assertThat(read.kafkaCaPem()).isEqualTo("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
    }

    @Test
    void theLogKeyAndMinimumPolicyAgeReadBackAndTheHeadIsKeptBesideTheFile(@TempDir Path dir) throws Exception {
        Path creds = dir.resolve("acme.credentials");
        ClientCredentials.generate("acme").write(creds);
        byte[] key = logKey();
        ConnectionFile written = new ConnectionFile("127.0.0.1:9092", "http://r", "http://k", "sealstream.requests", PIN,
                PIN, null, KafkaSecurity.Protocol.SASL_SSL, null, creds, List.of(), null, java.time.Duration.ofHours(24), null)
                .withLogKey(key);

        written.write(dir.resolve("acme.connection"));
        ConnectionFile read = ConnectionFile.read(dir.resolve("acme.connection"));

        assertThat(java.util.Base64.getDecoder().decode(read.logKey())).isEqualTo(key);
        assertThat(read.minimumPolicyAge()).isEqualTo(java.time.Duration.ofHours(24));
        assertThat(read.logHeadFile()).isEqualTo(dir.resolve("acme.connection.log-head").toAbsolutePath());
    }

    @Test
    void theKeptHeadCanLiveOffAReadOnlyMount(@TempDir Path dir) throws Exception {
        Path file = handWritten(dir.resolve("mounted.connection"), "kafka.security.protocol=PLAINTEXT",
                "log.head.file=/var/lib/acme/log-head");

        assertThat(ConnectionFile.read(file).logHeadFile()).isEqualTo(Path.of("/var/lib/acme/log-head"));
    }

    @Test
    void aClientFileWithoutALogKeyBuildsNoClientAndSaysWhatToDo(@TempDir Path dir) {
        Path creds = dir.resolve("acme.credentials");
        ClientCredentials.generate("acme").write(creds);
        secured(creds).write(dir.resolve("acme.connection"));

        assertThatThrownBy(() -> ConnectionFile.read(dir.resolve("acme.connection")).clientBuilder())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pin.log.key")
                .hasMessageContaining("sealstream clients add");
    }

    @Test
    void aMinimumPolicyAgeThatIsNotSecondsIsRefused(@TempDir Path dir) throws Exception {
        Path file = handWritten(dir.resolve("age.connection"), "kafka.security.protocol=PLAINTEXT",
                "log.min.policy.age.seconds=1d");

        assertThatThrownBy(() -> ConnectionFile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole number of seconds");
    }

    /** A connection file as someone writes it by hand: the addresses and pins, then {@code more} lines. */
    private static Path handWritten(Path file, String... more) throws Exception {
        List<String> lines = new java.util.ArrayList<>(List.of("bootstrap.servers=127.0.0.1:9092",
                "schema.registry.url=http://r", "key.broker.url=http://k", "pin.broker.measurement=" + PIN,
                "pin.policy.id=" + PIN));
        lines.addAll(List.of(more));
        Files.write(file, lines);
        return file;
    }

    private static byte[] logKey() throws Exception {
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        return ec.generateKeyPair().getPublic().getEncoded();
    }

    @Test
    void aFileFromBeforeKafkaAuthenticationIsRefusedWithWhatToDo(@TempDir Path dir) throws Exception {
        Path old = handWritten(dir.resolve("old.properties"));

        assertThatThrownBy(() -> ConnectionFile.read(old)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.security.protocol").hasMessageContaining("sealstream clients add");
    }

    @Test
    void aSaslFileWithoutCredentialsIsRefused(@TempDir Path dir) throws Exception {
        Path file = handWritten(dir.resolve("nocreds.connection"), "kafka.security.protocol=SASL_SSL");

        assertThatThrownBy(() -> ConnectionFile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.credentials.file");
    }

    @Test
    void aPlaintextFileNamesNoClientAndBuildsNone(@TempDir Path dir) {
        ConnectionFile plain = new ConnectionFile("127.0.0.1:9092", "http://r", "http://k", "sealstream.requests", PIN,
                PIN, null, KafkaSecurity.Protocol.PLAINTEXT, null, null, List.of(), null, null, null);

        assertThatThrownBy(plain::clientBuilder).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PLAINTEXT");
    }

    private static ConnectionFile secured(Path creds) {
        return new ConnectionFile("127.0.0.1:9092", "http://r", "http://k", "sealstream.requests", PIN, PIN, null,
                KafkaSecurity.Protocol.SASL_SSL, "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", creds,
                List.of("default", "gpu"), null, null, null);
    }
}
