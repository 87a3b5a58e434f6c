package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.client.SealstreamClient;
import io.sealstream.service.ObservabilityFiles;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's {@code prometheus} package; skipped with a message where it
 * is not installed) scrapes a running stack's workers and key broker with the shipped alert rules:
 * every series the rules and the dashboard use is in its database, every rule evaluates, and no
 * metric name or label value of the run carries the plaintext canary.
 */
@WithLocalStack
class PrometheusScrapeTest {
    private static final String CANARY = "CANARY-prom-3f9a1e-salary-review";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    @TempDir
    static Path dir;
    private static Process prometheus;
    private static String api;

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(2).partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new);
    }

    @BeforeAll
    static void startPrometheusAndServeTraffic(LocalStack stack) throws Exception {
        Path binary = ObservabilityFiles.tool("prometheus").orElse(null);
        Assumptions.assumeTrue(binary != null, "prometheus is not installed (Debian: apt-get install prometheus; "
                + ".ci/run installs it): the real-Prometheus checks of the metrics are skipped");
        try (SealstreamClient acme = stack.client("acme")) {
            List<CompletableFuture<?>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                answers.add(acme.embeddings().create(SyntheticEngine.MODEL, List.of(CANARY + " note " + i)));
            }
            CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.copy(ObservabilityFiles.ALERTS, dir.resolve("alerts.yml"));
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                rule_files: [alerts.yml]
                scrape_configs:
                  - job_name: sealstream-worker
                    static_configs:
                      - targets: [%s]
                  - job_name: sealstream-key-broker
                    static_configs:
                      - targets: ["%s"]
                """.formatted(stack.workers().stream().map(w -> "\"" + hostPort(w.healthUrl()) + "\"")
                        .collect(Collectors.joining(", ")), hostPort(stack.keyBroker().metricsUrl())));
        api = "http://127.0.0.1:" + port;
        prometheus = new ProcessBuilder(binary.toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        assertThat(Eventually.holds(Duration.ofSeconds(60), () -> status("/-/ready") == 200))
                .as("Prometheus ready (log: %s)", dir.resolve("prometheus.log")).isTrue();
        // three targets up, and a few scrapes in, so rates have two points
        assertThat(Eventually.holds(Duration.ofSeconds(60), () -> query("count(up == 1)").equals("3")
                && !query("sum(count_over_time(up[1m]))").isEmpty()
                && Double.parseDouble(query("sum(count_over_time(up[1m]))")) >= 9)).as("targets up").isTrue();
    }

    @AfterAll
    static void stopPrometheus() throws InterruptedException {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly();
            }
        }
    }

    @Test
    void everySeriesTheAlertsAndTheDashboardUseIsInPrometheus() throws Exception {
        List<String> missing = new ArrayList<>();
        for (String series : ObservabilityFiles.seriesUsed()) {
            JsonNode found = get("/api/v1/series?match[]=" + URLEncoder.encode(series, StandardCharsets.UTF_8)).path("data");
            if (found.isEmpty()) {
                missing.add(series);
            }
        }

        assertThat(ObservabilityFiles.seriesUsed()).hasSizeGreaterThan(15);
        assertThat(missing).as("series no scrape delivered").isEmpty();
    }

    @Test
    void everyAlertRuleEvaluatesAndNoneFiresOnAHealthyStack() throws Exception {
        assertThat(Eventually.holds(Duration.ofSeconds(30), () -> {
            List<JsonNode> rules = rulesOrNone();
            return rules.size() == ObservabilityFiles.alertRules().size()
                    && rules.stream().allMatch(r -> r.path("health").asText().equals("ok"));
        })).as("every rule evaluated: %s", rulesSummary()).isTrue();

        assertThat(rules()).as("no alert fires or is pending").allMatch(r -> r.path("state").asText().equals("inactive"));
    }

    @Test
    void noMetricNameOrLabelValueInPrometheusCarriesTheCanary() throws Exception {
        CanaryScan scan = new CanaryScan(CANARY);
        List<String> labels = new ArrayList<>();
        get("/api/v1/labels").path("data").forEach(l -> labels.add(l.asText()));
        for (String label : labels) {
            scan.text("values of label " + label, get("/api/v1/label/" + label + "/values").path("data").toString());
        }

        assertThat(labels).contains("__name__", "code", "outcome", "model", "partition");
        assertThat(get("/api/v1/label/__name__/values").path("data").size()).isGreaterThan(40);
        assertThat(scan.findings()).isEmpty();
    }

    private static List<JsonNode> rules() throws IOException, InterruptedException {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : get("/api/v1/rules").path("data").path("groups")) {
            group.path("rules").forEach(rules::add);
        }
        return rules;
    }

    private static List<JsonNode> rulesOrNone() {
        try {
            return rules();
        } catch (IOException | InterruptedException e) {
            return List.of();
        }
    }

    private static String rulesSummary() {
        try {
            return rules().stream().map(r -> r.path("name").asText() + "=" + r.path("health").asText()
                    + (r.has("lastError") ? " (" + r.path("lastError").asText() + ")" : "")).toList().toString();
        } catch (Exception e) {
            return "unavailable: " + e;
        }
    }

    /** The value of an instant query with one result, or "" with none. */
    private static String query(String promql) {
        try {
            JsonNode result = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))
                    .path("data").path("result");
            return result.isEmpty() ? "" : result.get(0).path("value").get(1).asText();
        } catch (Exception e) {
            return "";
        }
    }

    private static JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static int status(String path) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(2)).GET().build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static String hostPort(String url) {
        URI u = URI.create(url);
        return u.getHost() + ":" + u.getPort();
    }
}
