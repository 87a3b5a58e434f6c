package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.engine.SyntheticEngine;
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
@WithLocalStack
class ReplayedReleaseTest {
    private static LocalStack stack;
    private static KeyBrokerProxy proxy;
    private static final AtomicReference<byte[]> FIRST_RELEASE = new AtomicReference<>();
    private static final AtomicInteger REPLAYS = new AtomicInteger();
    private static TeeWorker worker;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(0).partitions(1).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new)
                // hourly rotation, but the worker refreshes every second: many replays in a short test
                .keyRotation(Duration.ofHours(1), Duration.ofMinutes(3), Duration.ofSeconds(1));
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        proxy = new KeyBrokerProxy(stack.keyBroker().url());
        // every key release after the first is the first one again
        proxy.rewrite((path, genuine) -> {
            boolean release = path.startsWith("/v1/keys/") && !path.endsWith("/public") && genuine.status() == 200;
            if (release && !FIRST_RELEASE.compareAndSet(null, genuine.body())) {
                REPLAYS.incrementAndGet();
                return new KeyBrokerProxy.Answer(200, FIRST_RELEASE.get());
            }
            return genuine;
        });
        worker = stack.startWorkerThrough("worker-behind-attacker", proxy.url());
        assertThat(stack.awaitWorkersReady(Duration.ofSeconds(120))).as("worker ready").isTrue();
    }

    @AfterAll
    static void stopStack() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aReplayedOldReleaseIsRefusedAndTheWorkerKeepsServing() throws Exception {
        int before = REPLAYS.get();
        Eventually.holds(Duration.ofSeconds(30), () -> REPLAYS.get() >= before + 3);
        assertThat(REPLAYS.get()).as("old releases replayed to the worker").isGreaterThanOrEqualTo(before + 3);

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
}
