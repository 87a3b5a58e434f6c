package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sealstream.metrics.SealstreamMeter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules, the Prometheus scrape configuration and the Grafana dashboard name only
 * metrics of the catalogue ({@link SealstreamMeter}), and their expressions are valid PromQL
 * ({@code promtool}, where Prometheus is installed: Debian's {@code prometheus} package).
 */
class ObservabilityFilesTest {
    private static final Path PROMETHEUS = Path.of("..", "docker", "prometheus");
    private static final Path DASHBOARD = Path.of("..", "docker", "grafana", "sealstream-dashboard.json");
    private static final Pattern SEALSTREAM_SERIES = Pattern.compile("\\bsealstream_[a-z_]+\\b");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyAlertNamesOnlyCatalogueSeriesAndSaysWhatToDo() throws IOException {
        List<JsonNode> rules = alertRules();

        assertThat(rules).isNotEmpty();
        for (JsonNode rule : rules) {
            String name = rule.path("alert").asText();
            assertThat(unknownSeries(rule.path("expr").asText())).as("%s names only catalogue series", name).isEmpty();
            assertThat(rule.path("labels").path("severity").asText()).as("%s severity", name).isIn("warning", "critical");
            assertThat(rule.path("annotations").path("summary").asText()).as("%s summary", name).isNotBlank();
            assertThat(rule.path("annotations").path("description").asText()).as("%s description", name).hasSizeGreaterThan(40);
        }
    }

    @Test
    void theAlertsCoverWhatAnOperatorMustBeWokenFor() throws IOException {
        Set<String> used = new LinkedHashSet<>();
        alertRules().forEach(r -> used.addAll(series(r.path("expr").asText())));

        assertThat(used).contains(
                SealstreamMeter.BROKER_ATTESTATIONS.prometheusName(),
                SealstreamMeter.WORKER_REQUESTS.prometheusName(),
                SealstreamMeter.WORKER_CONSUMER_LAG.prometheusName(),
                SealstreamMeter.WORKER_REQUEST_TIME.prometheusName() + "_bucket",
                SealstreamMeter.BROKER_OLDEST_PRIMARY_KEY_AGE.prometheusName(),
                SealstreamMeter.WORKER_LEASE_REMAINING.prometheusName());
        assertThat(alertRules()).extracting(r -> r.path("expr").asText())
                .anyMatch(e -> e.contains("up{job=\"sealstream-key-broker\"}"));
    }

    @Test
    void theDashboardShowsEveryServiceMeterAndNamesNothingElse() throws IOException {
        List<String> exprs = dashboardExpressions();
        Set<String> used = new LinkedHashSet<>();
        exprs.forEach(e -> used.addAll(series(e)));

        assertThat(exprs).allSatisfy(e -> assertThat(unknownSeries(e)).as(e).isEmpty());
        for (SealstreamMeter m : SealstreamMeter.values()) {
            if (m.component() != SealstreamMeter.Component.CLIENT) {
                assertThat(m.prometheusSeries()).as("%s on the dashboard", m).containsAnyElementsOf(used);
            }
        }
        for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).path("panels")) {
            assertThat(panel.path("description").asText()).as("panel %s", panel.path("title").asText()).isNotBlank();
        }
    }

    @Test
    void theScrapeConfigurationReadsEachServicesMetricsPath() throws IOException {
        JsonNode config = YAML.readTree(PROMETHEUS.resolve("prometheus.yml").toFile());
        List<String> jobs = new ArrayList<>();
        for (JsonNode job : config.path("scrape_configs")) {
            jobs.add(job.path("job_name").asText());
            assertThat(job.path("metrics_path").asText()).isEqualTo(ServiceMetrics.PATH);
        }

        assertThat(jobs).containsExactlyInAnyOrder("sealstream-worker", "sealstream-key-broker");
        assertThat(config.path("rule_files").get(0).asText()).endsWith("alerts.yml");
    }

    @Test
    void promtoolAcceptsTheRulesAndTheDashboardsQueries(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(onPath("promtool"), "promtool is not installed (Debian: apt-get install prometheus); "
                + "the PromQL of docker/prometheus and docker/grafana is not checked");
        // the dashboard's queries as recording rules: promtool parses each one
        StringBuilder recording = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int i = 0;
        for (String expr : dashboardExpressions()) {
            recording.append("      - record: dashboard:query").append(i++).append("\n        expr: ")
                    .append(JSON.writeValueAsString(expr)).append('\n');
        }
        Path dashboardRules = dir.resolve("dashboard-rules.yml");
        Files.writeString(dashboardRules, recording);

        assertThat(promtool("check", "rules", PROMETHEUS.resolve("alerts.yml").toString())).contains("SUCCESS");
        assertThat(promtool("check", "rules", dashboardRules.toString())).contains("SUCCESS: " + i + " rules found");
    }

    private static List<JsonNode> alertRules() throws IOException {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : YAML.readTree(PROMETHEUS.resolve("alerts.yml").toFile()).path("groups")) {
            group.path("rules").forEach(rules::add);
        }
        return rules;
    }

    private static List<String> dashboardExpressions() throws IOException {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        assertThat(exprs).isNotEmpty();
        return exprs;
    }

    private static Set<String> series(String expr) {
        Set<String> found = new LinkedHashSet<>();
        Matcher m = SEALSTREAM_SERIES.matcher(expr);
        while (m.find()) {
            found.add(m.group());
        }
        return found;
    }

    private static Set<String> unknownSeries(String expr) {
        Set<String> unknown = series(expr);
        unknown.removeIf(s -> SealstreamMeter.ofPrometheusSeries(s).isPresent());
        return unknown;
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
                .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    private static String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool ends").isTrue();
        assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), out).isZero();
        return out;
    }
}
