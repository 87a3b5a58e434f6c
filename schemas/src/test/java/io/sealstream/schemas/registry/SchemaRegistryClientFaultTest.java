package io.sealstream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failures a real registry rarely shows on demand: server errors, answers that are not JSON, and
 * a server that does not answer in time. A loopback HTTP server plays the broken registry.
 */
class SchemaRegistryClientFaultTest {
    private HttpServer server;
    private volatile int status;
    private volatile String body;
    private volatile long delayMillis;

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void aServerErrorCarriesStatusCodeAndRetryAdvice() {
        status = 503;
        body = "{\"error_code\":50003,\"message\":\"storage not ready\"}";

        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class, () -> client().schemaById(1));

        assertThat(e.httpStatus()).isEqualTo(503);
        assertThat(e.errorCode()).isEqualTo(50003);
        assertThat(e).hasMessageContaining("HTTP 503").hasMessageContaining("storage not ready").hasMessageContaining("retry");
    }

    @Test
    void anErrorWithoutAJsonBodyFallsBackToTheHttpStatus() {
        status = 502;
        body = "<html>bad gateway</html>";

        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class, () -> client().subjects());

        assertThat(e.errorCode()).isEqualTo(502);
        assertThat(e).hasMessageContaining("no message");
    }

    @Test
    void aSuccessThatIsNotJsonPointsAtTheWrongUrl() {
        status = 200;
        body = "<html>registry UI</html>";

        assertThat(catchThrowableOfType(SchemaRegistryException.class, () -> client().subjects()))
                .hasMessageContaining("not JSON")
                .hasMessageContaining("Confluent-compatible API");
    }

    @Test
    void aRegistryThatDoesNotAnswerInTimeIsUnavailable() {
        status = 200;
        body = "[]";
        delayMillis = 2_000;

        SchemaRegistryUnavailableException e = catchThrowableOfType(SchemaRegistryUnavailableException.class,
                () -> new SchemaRegistryClient(url(), Duration.ofMillis(300)).subjects());

        assertThat(e).hasMessageContaining("no answer within 300 ms");
    }

    private SchemaRegistryClient client() {
        return new SchemaRegistryClient(url(), Duration.ofSeconds(5));
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/apis/ccompat/v7";
    }
}
