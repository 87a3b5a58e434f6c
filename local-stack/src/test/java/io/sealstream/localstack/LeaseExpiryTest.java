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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leases bite: a worker the key broker stops admitting (as after its measurement left the policy)
 * keeps its keys only until its lease ends; then it leaves the consumer group and drops every
 * keyset and session key, the other worker takes its partitions, and nothing is lost. Admitted
 * again, it consumes again.
 */
@WithLocalStack
class LeaseExpiryTest {
    private static final Duration LEASE = Duration.ofSeconds(6);
    private static final Duration REFRESH = Duration.ofSeconds(1);
    private static LocalStack stack;
    private static KeyBrokerProxy proxy;
    private static TeeWorker revocable;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new)
                .keyRotation(Duration.ofHours(1), Duration.ofMinutes(3), REFRESH).leaseTtl(LEASE);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        proxy = new KeyBrokerProxy(stack.keyBroker().url());
        revocable = stack.startWorkerThrough("worker-to-revoke", proxy.url());
        assertThat(stack.awaitWorkersReady(Duration.ofSeconds(120))).as("workers ready").isTrue();
    }

    @AfterAll
    static void stopStack() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aWorkerNoLongerAdmittedDropsItsKeysWithinItsLeaseAndOthersServeEverything() throws Exception {
        // the broker refuses this worker from now on, as it would once its measurement left the policy
        long revokedAt = System.nanoTime();
        proxy.rewrite((path, genuine) -> path.equals("/v1/attest")
                ? KeyBrokerProxy.Answer.json(403, "{\"error\":\"unknown_measurement\",\"message\":\"revoked\"}")
                : genuine);
        Eventually.holds(Duration.ofSeconds(60), () -> !revocable.holdsKeys());
        double seconds = (System.nanoTime() - revokedAt) / 1e9;
        System.out.printf("keys dropped %.1f s after the broker stopped admitting the worker (lease %d s, refresh %d s)%n",
                seconds, LEASE.toSeconds(), REFRESH.toSeconds());

        assertThat(revocable.holdsKeys()).as("keys dropped").isFalse();
        assertThat(seconds).as("within lease + refresh + check").isLessThan(LEASE.plus(REFRESH).toSeconds() + 5);
        assertThat(revocable.isReady()).isFalse();

        List<CompletableFuture<EmbeddingResult>> answers = new ArrayList<>();
        try (SealstreamClient acme = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(90)).build()) {
            for (int i = 0; i < 200; i++) {
                answers.add(acme.embeddings().create(SyntheticEngine.MODEL, List.of("served by the other worker " + i)));
            }
            for (CompletableFuture<EmbeddingResult> a : answers) {
                assertThat(a.get(120, TimeUnit.SECONDS).embeddings()).hasSize(1);
            }
        }
        assertThat(CommittedRecords.readAll(stack, stack.names().dlqTopic())).as("dead letters").isEmpty();

        // admitted again: it attests, gets keys and consumes again
        proxy.rewrite((path, genuine) -> genuine);
        assertThat(stack.awaitWorkersReady(Duration.ofSeconds(60))).as("ready again once admitted").isTrue();
        assertThat(revocable.isReady()).isTrue();
    }
}
