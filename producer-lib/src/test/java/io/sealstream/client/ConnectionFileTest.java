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
    void aFileFromBeforeKafkaAuthenticationIsRefusedWithWhatToDo(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old.properties");
        Files.writeString(old, String.join("\n", "bootstrap.servers=127.0.0.1:9092", "schema.registry.url=http://r",
                "key.broker.url=http://k", "pin.broker.measurement=" + PIN, "pin.policy.id=" + PIN, ""));

        assertThatThrownBy(() -> ConnectionFile.read(old)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.security.protocol").hasMessageContaining("sealstream clients add");
    }

    @Test
    void aSaslFileWithoutCredentialsIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("nocreds.connection");
        Files.writeString(file, String.join("\n", "bootstrap.servers=127.0.0.1:9092", "schema.registry.url=http://r",
                "key.broker.url=http://k", "pin.broker.measurement=" + PIN, "pin.policy.id=" + PIN,
                "kafka.security.protocol=SASL_SSL", ""));

        assertThatThrownBy(() -> ConnectionFile.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.credentials.file");
    }

    @Test
    void aPlaintextFileNamesNoClientAndBuildsNone(@TempDir Path dir) {
        ConnectionFile plain = new ConnectionFile("127.0.0.1:9092", "http://r", "http://k", "sealstream.requests", PIN,
                PIN, null, KafkaSecurity.Protocol.PLAINTEXT, null, null, List.of());

        assertThatThrownBy(plain::clientBuilder).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PLAINTEXT");
    }

    private static ConnectionFile secured(Path creds) {
        return new ConnectionFile("127.0.0.1:9092", "http://r", "http://k", "sealstream.requests", PIN, PIN, null,
                KafkaSecurity.Protocol.SASL_SSL, "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", creds,
                List.of("default", "gpu"));
    }
}
