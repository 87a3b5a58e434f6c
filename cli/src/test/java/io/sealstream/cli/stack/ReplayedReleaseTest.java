package io.sealstream.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sealstream.cli.bench.SyntheticEngine;
import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.worker.TeeWorker;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A network attacker between a worker and the key broker records the worker's first key release
 * and answers every later key request with it (to roll the worker's keys back). The release opens
 * only under the lease that asked for it, so the worker refuses each replay, keeps the keys it has
 * and keeps serving.
 */
class ReplayedReleaseTest {
    private static LocalStack stack;
    private static ReplayingProxy proxy;
    private static TeeWorker worker;

    @BeforeAll
    static void startStack() throws Exception {
        stack = LocalStack.start(new LocalStack.Options().workers(0).partitions(1).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new)
                // hourly rotation, but the worker refreshes every second: many replays in a short test
                .keyRotation(Duration.ofHours(1), Duration.ofMinutes(3), Duration.ofSeconds(1)));
        proxy = new ReplayingProxy(stack.keyBroker().url());
        worker = stack.startWorkerThrough("worker-behind-attacker", proxy.url());
        assertThat(stack.awaitWorkersReady(Duration.ofSeconds(120))).as("worker ready").isTrue();
    }

    @AfterAll
    static void stopStack() {
        if (stack != null) {
            stack.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aReplayedOldReleaseIsRefusedAndTheWorkerKeepsServing() throws Exception {
        int before = proxy.replays.get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (proxy.replays.get() < before + 3 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(proxy.replays.get()).as("old releases replayed to the worker").isGreaterThanOrEqualTo(before + 3);

        List<CompletableFuture<EmbeddingResult>> answers = new ArrayList<>();
        try (SealstreamClient acme = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(60)).build()) {
            for (int i = 0; i < 20; i++) {
                answers.add(acme.embeddings().create(SyntheticEngine.MODEL, List.of("after the replays " + i)));
            }
            for (CompletableFuture<EmbeddingResult> a : answers) {
                assertThat(a.get(60, TimeUnit.SECONDS).embeddings()).hasSize(1);
            }
        }
        assertThat(worker.refusedKeyReleases()).as("replays refused").isGreaterThanOrEqualTo(3);
        assertThat(worker.isReady()).isTrue();
        assertThat(worker.streamThreadReplacements()).isZero();
    }

    /** Forwards to the key broker, except that every key release after the first is the first one again. */
    private static final class ReplayingProxy implements AutoCloseable {
        private final HttpServer server;
        private final HttpClient http = HttpClient.newHttpClient();
        private final String target;
        private final AtomicReference<byte[]> firstRelease = new AtomicReference<>();
        final AtomicInteger replays = new AtomicInteger();

        ReplayingProxy(String target) throws IOException {
            this.target = target;
            this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", this::handle);
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        private void handle(HttpExchange ex) throws IOException {
            try (ex) {
                byte[] body;
                try (InputStream in = ex.getRequestBody()) {
                    body = in.readAllBytes();
                }
                HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + ex.getRequestURI()))
                        .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofByteArray(body));
                for (String h : List.of("Authorization", "Content-Type")) {
                    String v = ex.getRequestHeaders().getFirst(h);
                    if (v != null) {
                        b.header(h, v);
                    }
                }
                HttpResponse<byte[]> r;
                try {
                    r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    ex.sendResponseHeaders(502, -1);
                    return;
                }
                byte[] answer = r.body();
                boolean isRelease = ex.getRequestURI().getPath().startsWith("/v1/keys/")
                        && !ex.getRequestURI().getPath().endsWith("/public") && r.statusCode() == 200;
                if (isRelease && !firstRelease.compareAndSet(null, answer)) {
                    answer = firstRelease.get();
                    replays.incrementAndGet();
                }
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(r.statusCode(), answer.length == 0 ? -1 : answer.length);
                if (answer.length > 0) {
                    try (OutputStream out = ex.getResponseBody()) {
                        out.write(answer);
                    }
                }
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}
