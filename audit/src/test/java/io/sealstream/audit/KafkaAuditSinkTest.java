package io.sealstream.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The sink while its cluster cannot be reached: decisions never wait, events wait in the queue
 * where {@code queued()} (the backlog alert's gauge) sees them, and only what overflows the queue
 * is counted as dropped. Writing through a real cluster is AuditTopicTest's and DeploymentTest's.
 */
class KafkaAuditSinkTest {

    @Test
    void withTheClusterUnreachableEventsQueueVisiblyAndOnlyTheOverflowIsDropped() throws Exception {
        AuditTopic unreachable = new AuditTopic("sealstream.audit", Map.of("bootstrap.servers", "127.0.0.1:" + closedPort(),
                "security.protocol", "PLAINTEXT"), new SchemaRegistryClient("http://127.0.0.1:" + closedPort(),
                Duration.ofSeconds(1)));
        long started = System.nanoTime();
        try (KafkaAuditSink sink = new KafkaAuditSink("key-broker/test", unreachable)) {
            for (int i = 0; i < KafkaAuditSink.QUEUE_LIMIT + 5; i++) {
                sink.accept(Instant.now(), "release.granted", Map.of("lease", "l" + i));
            }
            double seconds = (System.nanoTime() - started) / 1e9;

            assertThat(seconds).as("accepting never waits on Kafka (a generous bound, not a benchmark)").isLessThan(10);
            assertThat(sink.queued()).isEqualTo(KafkaAuditSink.QUEUE_LIMIT);
            assertThat(sink.dropped()).as("only what did not fit").isEqualTo(5);
            assertThat(sink.written()).isZero();
        }
    }

    private static int closedPort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
