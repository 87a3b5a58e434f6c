package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ServiceMetricsTest {

    @Test
    void everyCatalogueMeterAppearsInTheScrapeUnderItsPrometheusNames() {
        try (ServiceMetrics metrics = new ServiceMetrics()) {
            Meters meters = metrics.meters();
            AtomicLong state = new AtomicLong(3);
            for (SealstreamMeter m : SealstreamMeter.values()) {
                String[] tags = m.tagKeys().stream().map(k -> "v1").toArray(String[]::new);
                switch (m.kind()) {
                    case COUNTER -> meters.counter(m, tags).increment();
                    case TIMER, HISTOGRAM_TIMER -> meters.timer(m, tags).record(java.time.Duration.ofMillis(5));
                    case SUMMARY -> meters.summary(m, tags).record(4);
                    case GAUGE -> meters.gauge(m, state, AtomicLong::get, tags);
                }
            }

            String scrape = metrics.scrape();

            for (SealstreamMeter m : SealstreamMeter.values()) {
                for (String series : m.prometheusSeries()) {
                    assertThat(scrape).as("%s as %s", m, series).containsPattern("(?m)^" + series + "[{ ]");
                }
            }
        }
    }

    @Test
    void aTagValueOutsideTheSafeAlphabetIsRefusedWithoutRecording() {
        try (ServiceMetrics metrics = new ServiceMetrics()) {
            Meters meters = metrics.meters();

            assertThatThrownBy(() -> meters.counter(SealstreamMeter.WORKER_REQUESTS, "answered", "a text with spaces"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tag code")
                    .hasMessageNotContaining("a text with spaces");
            assertThatThrownBy(() -> meters.counter(SealstreamMeter.WORKER_REQUESTS, "answered", "x".repeat(81)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThat(metrics.scrape()).doesNotContain("a text with spaces");
        }
    }

    @Test
    void aMeterIsMadeOnlyWithItsOwnKindAndTagKeys() {
        Meters meters = Meters.none();

        assertThatThrownBy(() -> meters.timer(SealstreamMeter.WORKER_REQUESTS, "answered", "none"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a timer");
        assertThatThrownBy(() -> meters.counter(SealstreamMeter.WORKER_REQUESTS, "answered"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[outcome, code]");
    }

    @Test
    void catalogueNamesAreUniqueAndFollowPrometheusConventions() {
        assertThat(Arrays.stream(SealstreamMeter.values()).map(SealstreamMeter::prometheusName)).doesNotHaveDuplicates();
        for (SealstreamMeter m : SealstreamMeter.values()) {
            assertThat(m.prometheusName()).as("%s", m).matches("sealstream_[a-z_]+");
            assertThat(m.description()).as("%s", m).isNotBlank().endsWith(".");
            assertThat(m.tagKeys()).as("%s", m).doesNotContain("client", "client_id", "topic", "request_id");
        }
    }

    @Test
    void docsObservabilityHoldsTheCatalogue() throws Exception {
        DocumentedTable.assertDocHolds("observability.md", "metrics", SealstreamMeter.markdown());
    }

    @Test
    void theScrapeIsServedOverHttpAndOnlyToReads() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        try (ServiceMetrics metrics = new ServiceMetrics()) {
            metrics.meters().counter(SealstreamMeter.BROKER_POLICY_CHANGES).increment();
            metrics.serveOn(server);
            server.start();
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + ServiceMetrics.PATH);
            HttpClient http = HttpClient.newHttpClient();

            HttpResponse<String> get = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString("x"))
                    .build(), HttpResponse.BodyHandlers.ofString());

            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(get.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(get.body()).contains("sealstream_keybroker_policy_changes_total 1.0").contains("jvm_memory_used_bytes");
            assertThat(post.statusCode()).isEqualTo(405);
        } finally {
            server.stop(0);
        }
    }
}
