package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.worker.engine.SyntheticEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * R7: topic keys rotate every 10 s while two clients send 10,000 requests. The next key reaches
 * the workers 5 s before clients may use it (workers refresh every 2 s), so no request meets a
 * key its worker lacks: every request is answered once, none is dead-lettered.
 */
@WithLocalStack
class KeyRotationUnderLoadTest {
    private static final int PER_CLIENT = 5_000;
    private static LocalStack stack;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(2).partitions(2).clients(List.of("acme", "globex"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new)
                .keyRotation(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(2));
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
    }

    @Test
    void rotationEveryTenSecondsUnderTenThousandRequestsLosesNothingAndDeadLettersNothing() throws Exception {
        long primaryBefore = stack.keyBroker().broker().publicKeys(stack.requestTopicFamily(), new byte[32]).primaryKeyId();
        List<Thread> senders = new ArrayList<>();
        List<List<CompletableFuture<EmbeddingResult>>> sent = new ArrayList<>();
        List<SealstreamClient> clients = new ArrayList<>();
        for (String client : List.of("acme", "globex")) {
            SealstreamClient c = stack.clientBuilder(client).requestTimeout(Duration.ofSeconds(90)).build();
            clients.add(c);
            List<CompletableFuture<EmbeddingResult>> futures = new ArrayList<>();
            sent.add(futures);
            senders.add(new Thread(() -> paced(c, futures), "r7-" + client));
        }
        try {
            senders.forEach(Thread::start);
            for (Thread t : senders) {
                t.join();
            }
            for (List<CompletableFuture<EmbeddingResult>> futures : sent) {
                CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(3, TimeUnit.MINUTES);
            }
            long primaryAfter = stack.keyBroker().broker().publicKeys(stack.requestTopicFamily(), new byte[32])
                    .primaryKeyId();

            assertThat(primaryAfter).as("the primary rotated during the run").isNotEqualTo(primaryBefore);
            assertThat(clients).allSatisfy(c -> assertThat(c.stats().sessionsOpened())
                    .as("sessions opened as keys rotated").isGreaterThanOrEqualTo(3));
            assertThat(clients).allSatisfy(c -> {
                assertThat(c.stats().answered()).isEqualTo(PER_CLIENT);
                assertThat(c.stats().rejected()).isZero();
                assertThat(c.stats().timedOut()).isZero();
            });
            for (String client : List.of("acme", "globex")) {
                assertThat(CommittedRecords.answerCounts(stack, "sealstream.responses." + client).values())
                        .hasSize(PER_CLIENT).containsOnly(1);
            }
            assertThat(CommittedRecords.readAll(stack, stack.names().dlqTopic())).as("dead letters").isEmpty();
        } finally {
            clients.forEach(SealstreamClient::close);
        }
    }

    /** 5,000 requests at about 150 a second, 32 in flight: the run spans several rotations. */
    private static void paced(SealstreamClient client, List<CompletableFuture<EmbeddingResult>> futures) {
        Semaphore slots = new Semaphore(32);
        long start = System.nanoTime();
        try {
            for (int i = 0; i < PER_CLIENT; i++) {
                long due = start + TimeUnit.MILLISECONDS.toNanos(i * 1000L / 150);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                slots.acquire();
                futures.add(client.embeddings().create(SyntheticEngine.MODEL, List.of("text " + i))
                        .whenComplete((r, e) -> slots.release()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
