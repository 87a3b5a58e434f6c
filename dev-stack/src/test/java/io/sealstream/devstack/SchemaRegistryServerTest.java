package io.sealstream.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

@EmbeddedStack
class SchemaRegistryServerTest {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void servesTheConfluentApiOnLoopback(SchemaRegistryServer registry) throws Exception {
        HttpResponse<String> subjects = http.send(HttpRequest.newBuilder(URI.create(registry.url() + "/subjects")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(registry.url()).startsWith("http://127.0.0.1:").endsWith("/apis/ccompat/v7");
        assertThat(subjects.statusCode()).isEqualTo(200);
        assertThat(subjects.body()).startsWith("[");
    }

    @Test
    void theStackCarriesBothServers(DevStack stack, SchemaRegistryServer registry) {
        assertThat(stack.requireRegistry()).isSameAs(registry);
        assertThat(stack.kafka().isRunning()).isTrue();
    }

    @Test
    void closeStopsTheChildProcess() {
        SchemaRegistryServer own = SchemaRegistryServer.start();
        ProcessHandle handle = ProcessHandle.of(own.pid()).orElseThrow();

        own.close();

        assertThat(own.isRunning()).isFalse();
        assertThat(handle.isAlive()).isFalse();
    }

    @Test
    void aMissingServerJarIsReportedWithTheBuildCommand() {
        assertThatThrownBy(() -> SchemaRegistryServer.start(Path.of("/nonexistent/quarkus-run.jar")))
                .hasMessageContaining("/nonexistent/quarkus-run.jar is missing")
                .hasMessageContaining("mvn -pl registry-server package");
    }
}
