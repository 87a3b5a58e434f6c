package io.sealstream.localstack;

import io.sealstream.metrics.SealstreamMeter;
import io.sealstream.service.ServiceMetrics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Prometheus scrape of a service, parsed just enough for tests: each sample's metric name,
 * labels and value.
 */
record MetricsScrape(String text, List<Sample> samples) {
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** Scrapes {@code baseUrl}'s {@link ServiceMetrics#PATH}. */
    static MetricsScrape of(String baseUrl) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(baseUrl + ServiceMetrics.PATH))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(baseUrl + ServiceMetrics.PATH + " answered " + r.statusCode());
        }
        return parse(r.body());
    }

    static MetricsScrape parse(String text) {
        List<Sample> samples = new java.util.ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.find()) {
                throw new IllegalArgumentException("not a Prometheus sample line: " + line);
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
        }
        return new MetricsScrape(text, List.copyOf(samples));
    }

    /** Whether the scrape holds a sample of every series of {@code meter}. */
    boolean has(SealstreamMeter meter) {
        return meter.prometheusSeries().stream().allMatch(series -> samples.stream().anyMatch(s -> s.name().equals(series)));
    }

    /** The sum of {@code name}'s samples whose labels include {@code labels}. */
    double sum(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet()))
                .mapToDouble(Sample::value).sum();
    }
}
