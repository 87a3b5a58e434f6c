package io.sealstream.keybroker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.service.DocumentedTable;
import io.sealstream.service.ServiceExit;
import io.sealstream.service.ServiceProcess;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key broker's own main: settings in, a serving broker, an exit code that says why it stopped. */
class KeyBrokerMainTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private int port;

    @BeforeEach
    void devStackFiles() throws Exception {
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        SimulatedSnpTee.shared().save(dir.resolve("tee"));
        Files.writeString(dir.resolve("policy.yaml"), """
                version: 1
                name: main-test
                allow-simulated: true
                models: ['%s']
                key-broker:
                  measurements: ['%s']
                tee:
                  snp:
                    measurements: ['%s']
                """.formatted("a7".repeat(32), HexFormat.of().formatHex(SimulatedSnpTee.devBrokerMeasurement()),
                HexFormat.of().formatHex(SimulatedSnpTee.devWorkerMeasurement())));
    }

    private Map<String, String> devSettings() {
        Map<String, String> m = new HashMap<>();
        m.put("data.dir", dir.resolve("data").toString());
        m.put("policy.file", dir.resolve("policy.yaml").toString());
        m.put("custody", "dev");
        m.put("tee", "simulated");
        m.put("tee.simulated.dir", dir.resolve("tee").toString());
        m.put("http.port", Integer.toString(port));
        m.put("metrics.port", "0");
        m.put("audit.sink", "log"); // the audit topic's writer is DeploymentTest's, against a real cluster
        return m;
    }

    private ServiceExit run(Map<String, String> settings, ServiceProcess process) {
        return KeyBrokerMain.run(KeyBrokerSettings.SCHEMA.load(null, Map.of(), settings), process,
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void docsConfigurationHoldsTheKeyBrokersSettingsAsTheCodeDeclaresThem() throws Exception {
        DocumentedTable.assertConfigurationDocHolds("key-broker-settings", KeyBrokerSettings.SCHEMA.markdown());
    }

    @Test
    void aStartedBrokerIsReadyAndStopsGracefullyWhenAsked() throws Exception {
        ServiceProcess process = ServiceProcess.withoutSignals();
        CompletableFuture<ServiceExit> exit = CompletableFuture.supplyAsync(() -> run(devSettings(), process));
        HttpResponse<String> ready = awaitReady(exit);
        process.requestStop("test");

        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).contains("\"state\":\"ready\"").contains("\"mode\":\"dev\"");
        assertThat(exit.get(30, TimeUnit.SECONDS)).isEqualTo(ServiceExit.STOPPED);
    }

    @Test
    void devCustodyOutsideTheSimulatedTeeIsRefused() {
        Map<String, String> m = devSettings();
        m.put("tee", "auto");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("custody=dev").contains("custody=recovery");
    }

    @Test
    void recoveryCustodyWithoutTheOwnersKeyInThePolicyIsACustodyFailure() {
        Map<String, String> m = devSettings();
        m.put("custody", "recovery");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CUSTODY_FAILED);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("recovery-key");
    }

    @Test
    void aPortInUseIsUnavailableAndNamesTheSetting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Map<String, String> m = devSettings();
            m.put("http.port", Integer.toString(taken.getLocalPort()));

            assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.UNAVAILABLE);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("set http.port");
        }
    }

    @Test
    void aPolicyFileThatIsNotAPolicyIsAConfigurationError() throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), "version: 1\nname: [not, a, name]\n");

        assertThat(run(devSettings(), ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("policy.file").contains("not a valid policy");
    }

    @Test
    void auditToKafkaIsTheDefaultAndWithoutKafkaTheBrokerDoesNotStart() {
        Map<String, String> m = devSettings();
        m.remove("audit.sink");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("kafka.bootstrap.servers").contains("schema.registry.url")
                .contains("key-broker.credentials").contains("audit.sink=log");
    }

    @Test
    void logOnlyAuditBesideKafkaSettingsIsRefusedRatherThanIgnored() {
        Map<String, String> m = devSettings();
        m.put("kafka.bootstrap.servers", "127.0.0.1:9092");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("audit.sink=log").contains("would go unused");
    }

    @Test
    void anAuditProducerNameOutsideItsAlphabetIsRefusedWithoutEchoingIt() {
        Map<String, String> m = devSettings();
        m.put("audit.producer", "key broker\nforged=1");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("audit.producer").doesNotContain("forged");
    }

    @Test
    void anUnreachableAuditClusterDoesNotKeepTheBrokerFromServing() throws Exception {
        Map<String, String> m = devSettings();
        m.put("audit.sink", "kafka");
        m.put("kafka.bootstrap.servers", "127.0.0.1:" + closedPort());
        m.put("kafka.security.protocol", "PLAINTEXT");
        m.put("schema.registry.url", "http://127.0.0.1:" + closedPort());
        ServiceProcess process = ServiceProcess.withoutSignals();
        CompletableFuture<ServiceExit> exit = CompletableFuture.supplyAsync(() -> run(m, process));
        HttpResponse<String> ready = awaitReady(exit);
        process.requestStop("test");

        assertThat(ready.statusCode()).as("its events wait in the sink's queue; the dropped-events alert watches it")
                .isEqualTo(200);
        assertThat(exit.get(60, TimeUnit.SECONDS)).isEqualTo(ServiceExit.STOPPED);
    }

    private static int closedPort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void withoutATeeTheBrokerDoesNotStart() {
        Map<String, String> m = devSettings();
        m.put("tee", "snp");
        m.put("custody", "recovery");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.NO_TEE);
    }

    @Test
    void inAKataPodWithoutItsAttestationAgentTheBrokerDoesNotStartAndSaysWhatToEnable() throws Exception {
        Map<String, String> m = devSettings();
        m.put("tee", "coco-snp");
        m.put("tee.agent.url", "http://127.0.0.1:" + closedPort());
        m.put("custody", "recovery");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.NO_TEE);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot reach the attestation agent")
                .contains("agent.guest_components_rest_api=attestation");
    }

    @Test
    void anAttestationAgentUrlOffLoopbackIsAConfigurationError() {
        Map<String, String> m = devSettings();
        m.put("tee", "coco-snp");
        m.put("tee.agent.url", "http://10.1.2.3:8006");
        m.put("custody", "recovery");

        assertThat(run(m, ServiceProcess.withoutSignals())).isEqualTo(ServiceExit.CONFIG_INVALID);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("tee.agent.url").contains("loopback");
    }

    /** Polls /readyz until it answers 200 (or the broker exits, or a minute passes). */
    private HttpResponse<String> awaitReady(CompletableFuture<ServiceExit> exit) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest readyz = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertThat(exit).as("the broker stopped early: %s", err.toString(StandardCharsets.UTF_8)).isNotDone();
            try {
                HttpResponse<String> r = http.send(readyz, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r;
                }
            } catch (java.io.IOException notListeningYet) {
                // the broker is still starting
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the key broker was not ready within 60 s: " + err.toString(StandardCharsets.UTF_8));
    }
}
