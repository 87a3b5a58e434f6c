package io.sealstream.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's files of docker/prometheus and docker/grafana as tests read them: the alert
 * rules, the dashboard's queries and the Sealstream series both name. Paths are relative to a
 * module directory (where Maven runs a module's tests).
 */
public final class ObservabilityFiles {
    public static final Path PROMETHEUS = Path.of("..", "docker", "prometheus");
    public static final Path ALERTS = PROMETHEUS.resolve("alerts.yml");
    public static final Path DASHBOARD = Path.of("..", "docker", "grafana", "sealstream-dashboard.json");
    private static final Pattern SEALSTREAM_SERIES = Pattern.compile("\\bsealstream_[a-z_]+\\b");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    private ObservabilityFiles() {
    }

    /** Every rule of every group of the alert rules. */
    public static List<JsonNode> alertRules() {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : read(YAML, ALERTS).path("groups")) {
            group.path("rules").forEach(rules::add);
        }
        return rules;
    }

    /** Every query of every panel of the dashboard. */
    public static List<String> dashboardExpressions() {
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard().path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }

    public static JsonNode dashboard() {
        return read(JSON, DASHBOARD);
    }

    /** The Sealstream series the alert rules and the dashboard name. */
    public static Set<String> seriesUsed() {
        Set<String> used = new LinkedHashSet<>();
        alertRules().forEach(r -> used.addAll(series(r.path("expr").asText())));
        dashboardExpressions().forEach(e -> used.addAll(series(e)));
        return used;
    }

    /** The Sealstream series {@code expr} names. */
    public static Set<String> series(String expr) {
        Set<String> found = new LinkedHashSet<>();
        Matcher m = SEALSTREAM_SERIES.matcher(expr);
        while (m.find()) {
            found.add(m.group());
        }
        return found;
    }

    /** {@code name} on the PATH (Debian's prometheus package installs prometheus and promtool), if there. */
    public static java.util.Optional<Path> tool(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return java.util.Optional.empty();
        }
        return java.util.Arrays.stream(path.split(java.io.File.pathSeparator)).map(d -> Path.of(d, name))
                .filter(Files::isExecutable).findFirst();
    }

    private static JsonNode read(ObjectMapper mapper, Path file) {
        try {
            return mapper.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
