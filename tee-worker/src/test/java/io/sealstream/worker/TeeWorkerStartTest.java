package io.sealstream.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.worker.engine.InferenceEngine;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker that cannot start leaves nothing running behind: no threads, no bound port. */
class TeeWorkerStartTest {
    /** The discard port: nothing listens there. */
    private static final String UNREACHABLE = "http://127.0.0.1:9";

    @TempDir
    Path state;

    @Test
    void aHealthPortInUseFailsTheStartBeforeTheWorkerCallsTheKeyBroker() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // the key broker is unreachable too: a worker that called it first would fail with that
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> TeeWorker.start(config(taken.getLocalPort(), UNREACHABLE), tee(), List.of(new IdleEngine())));

            assertTrue(e.getMessage().contains("port " + taken.getLocalPort()), e.getMessage());
            assertTrue(e.getMessage().contains("free the port or set another health port"), e.getMessage());
        }
        assertEquals(List.of(), workerThreads());
    }

    @Test
    void theHealthEndpointsListenOnTheConfiguredAddressSoAProbeFromOutsideReachesThem() throws Exception {
        com.sun.net.httpserver.HttpServer everywhere = TeeWorker.bindHealth("0.0.0.0", 0);
        com.sun.net.httpserver.HttpServer loopback = TeeWorker.bindHealth(WorkerConfig.DEFAULT_HEALTH_ADDRESS, 0);
        try {
            assertTrue(everywhere.getAddress().getAddress().isAnyLocalAddress(), everywhere.getAddress().toString());
            assertTrue(loopback.getAddress().getAddress().isLoopbackAddress(), loopback.getAddress().toString());
        } finally {
            everywhere.start();
            everywhere.stop(0);
            loopback.start();
            loopback.stop(0);
        }
    }

    @Test
    void anEmptyHealthAddressIsRefusedWithWhatToGive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerConfig.builder()
                .workerId("w").keyBrokerUrl(UNREACHABLE).schemaRegistryUrl(UNREACHABLE).healthAddress(" ")
                .streams(StreamProcessorConfig.builder().bootstrapServers("127.0.0.1:9")
                        .stateDir(state).build()).build());

        assertTrue(e.getMessage().contains("give an IP address or host name"), e.getMessage());
    }

    @Test
    void aStartThatFailsAfterBindingFreesTheHealthPort() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }

        KeyBrokerException e = assertThrows(KeyBrokerException.class,
                () -> TeeWorker.start(config(port, UNREACHABLE), tee(), List.of(new IdleEngine())));

        assertEquals("unreachable", e.code());
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, again.getLocalPort(), "the failed worker still holds its health port");
        }
        assertEquals(List.of(), workerThreads());
    }

    private WorkerConfig config(int healthPort, String keyBrokerUrl) {
        return WorkerConfig.builder().workerId("worker-start-test").keyBrokerUrl(keyBrokerUrl)
                .schemaRegistryUrl(UNREACHABLE).healthPort(healthPort)
                .streams(StreamProcessorConfig.builder().bootstrapServers("127.0.0.1:9").stateDir(state)
                        .applicationId("start-test").requestTopicFamily("sealstream.requests").build())
                .build();
    }

    private EvidenceProvider tee() {
        return new EvidenceProvider() {
            @Override
            public TeeType tee() {
                return TeeType.SNP;
            }

            @Override
            public Evidence attest(byte[] reportData) {
                throw new IllegalStateException("no TEE in this test");
            }
        };
    }

    /** Threads a started worker runs besides Kafka's: its batcher, its engine watch, its health server. */
    private static List<String> workerThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith("sealstream-inference") || n.startsWith("sealstream-engine-watch")
                        || n.startsWith("HTTP-Dispatcher") || n.contains("StreamThread"))
                .toList();
    }

    private static final class IdleEngine implements InferenceEngine {
        @Override
        public Set<String> models() {
            return Set.of("idle");
        }

        @Override
        public byte[] modelDigest() {
            return new byte[32];
        }

        @Override
        public List<InferenceResponse> infer(List<InferenceRequest> batch) {
            throw new AssertionError("a worker that did not start runs no batch");
        }

        @Override
        public void close() {
        }
    }
}
