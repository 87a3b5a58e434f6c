package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules, the Prometheus scrape configuration and the Grafana dashboard name only
 * metrics of the catalogue ({@link SealstreamMeter}), and their expressions are valid PromQL
 * ({@code promtool}, where Prometheus is installed: Debian's {@code prometheus} package).
 */
class ObservabilityFilesTest {
    private static final Path PROMETHEUS = ObservabilityFiles.PROMETHEUS;

    @Test
    void everyAlertNamesOnlyCatalogueSeriesAndSaysWhatToDo() throws IOException {
        List<JsonNode> rules = ObservabilityFiles.alertRules();

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
        ObservabilityFiles.alertRules().forEach(r -> used.addAll(ObservabilityFiles.series(r.path("expr").asText())));

        assertThat(used).contains(
                SealstreamMeter.BROKER_ATTESTATIONS.prometheusName(),
                SealstreamMeter.WORKER_REQUESTS.prometheusName(),
                SealstreamMeter.WORKER_CONSUMER_LAG.prometheusName(),
                SealstreamMeter.WORKER_REQUEST_TIME.prometheusName() + "_bucket",
                SealstreamMeter.BROKER_OLDEST_PRIMARY_KEY_AGE.prometheusName(),
                SealstreamMeter.WORKER_LEASE_REMAINING.prometheusName());
        assertThat(ObservabilityFiles.alertRules()).extracting(r -> r.path("expr").asText())
                .anyMatch(e -> e.contains("up{job=\"sealstream-key-broker\"}"));
    }

    @Test
    void theDashboardShowsEveryServiceMeterAndNamesNothingElse() throws IOException {
        List<String> exprs = ObservabilityFiles.dashboardExpressions();
        Set<String> used = new LinkedHashSet<>();
        exprs.forEach(e -> used.addAll(ObservabilityFiles.series(e)));

        assertThat(exprs).allSatisfy(e -> assertThat(unknownSeries(e)).as(e).isEmpty());
        for (SealstreamMeter m : SealstreamMeter.values()) {
            if (m.component() != SealstreamMeter.Component.CLIENT) {
                assertThat(m.prometheusSeries()).as("%s on the dashboard", m).containsAnyElementsOf(used);
            }
        }
        for (JsonNode panel : ObservabilityFiles.dashboard().path("panels")) {
            assertThat(panel.path("description").asText()).as("panel %s", panel.path("title").asText()).isNotBlank();
        }
    }

    @Test
    void theScrapeConfigurationReadsEachServicesMetricsPath() throws IOException {
        JsonNode config = ObservabilityFiles.YAML.readTree(PROMETHEUS.resolve("prometheus.yml").toFile());
        List<String> jobs = new ArrayList<>();
        for (JsonNode job : config.path("scrape_configs")) {
            jobs.add(job.path("job_name").asText());
            assertThat(job.path("metrics_path").asText()).isEqualTo(ServiceMetrics.PATH);
        }

        assertThat(jobs).containsExactlyInAnyOrder("sealstream-worker", "sealstream-key-broker");
        assertThat(config.path("rule_files").get(0).asText()).endsWith("alerts.yml");
    }

    @Test
    void promtoolAcceptsTheRulesTheScrapeConfigurationAndTheDashboardsQueries(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(ObservabilityFiles.tool("promtool").isPresent(), "promtool is not installed (Debian: apt-get install prometheus); "
                + "the PromQL of docker/prometheus and docker/grafana is not checked");
        // the dashboard's queries as recording rules: promtool parses each one
        StringBuilder recording = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        int i = 0;
        for (String expr : ObservabilityFiles.dashboardExpressions()) {
            recording.append("      - record: dashboard:query").append(i++).append("\n        expr: ")
                    .append(ObservabilityFiles.JSON.writeValueAsString(expr)).append('\n');
        }
        Path dashboardRules = dir.resolve("dashboard-rules.yml");
        Files.writeString(dashboardRules, recording);

        assertThat(promtool("check", "rules", ObservabilityFiles.ALERTS.toString())).contains("SUCCESS");
        assertThat(promtool("check", "config", PROMETHEUS.resolve("prometheus.yml").toString())).contains("SUCCESS");
        assertThat(promtool("check", "rules", dashboardRules.toString())).contains("SUCCESS: " + i + " rules found");
    }

    private static Set<String> unknownSeries(String expr) {
        Set<String> unknown = ObservabilityFiles.series(expr);
        unknown.removeIf(s -> SealstreamMeter.ofPrometheusSeries(s).isPresent());
        return unknown;
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
