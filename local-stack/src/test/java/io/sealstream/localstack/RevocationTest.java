package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.engine.SyntheticEngine;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Revocation by policy (issue 12, must-show 2): the owner removes a serving worker's measurement
 * from the live policy. The broker refuses it at once and gives every topic a fresh primary; the
 * worker drops its keys when its lease ends and stops consuming; the other worker answers every
 * request sent before, during and after, and nothing is dead-lettered.
 */
@WithLocalStack
class RevocationTest {
    private static final Duration LEASE = Duration.ofSeconds(6);
    private static final Duration REFRESH = Duration.ofSeconds(1);
    private static final byte[] REVOCABLE = sha384("sealstream dev worker image, build found vulnerable");
    private static LocalStack stack;
    private static TeeWorker revocable;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new).allowWorkerMeasurement(REVOCABLE)
                .keyRotation(Duration.ofHours(1), Duration.ofMinutes(3), REFRESH).leaseTtl(LEASE);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        revocable = stack.startWorker("worker-to-revoke", REVOCABLE);
        assertThat(stack.awaitWorkersReady(Duration.ofSeconds(120))).as("workers ready").isTrue();
    }

    @Test
    void aMeasurementRemovedFromTheLivePolicyStopsItsWorkerWithinItsLeaseAndNothingIsLost() throws Exception {
        String family = stack.names().familyOf(stack.names().pools().get(0));
        KeyBrokerClient broker = new KeyBrokerClient(stack.keyBroker().url(), Duration.ofSeconds(10));
        long primaryBefore = broker.publicKeys(family, new byte[32]).primaryKeyId();
        List<CompletableFuture<EmbeddingResult>> answers = new ArrayList<>();
        try (SealstreamClient before = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(90)).build()) {
            for (int i = 0; i < 100; i++) {
                answers.add(before.embeddings().create(SyntheticEngine.MODEL, List.of("before the change " + i)));
            }

            long revokedAt = System.nanoTime();
            PolicyChanged changed = stack.changePolicy(yaml -> yaml.replaceAll("(?m)^\\s*- '?" + hex(REVOCABLE) + "'?\\n", ""));
            for (int i = 0; i < 100; i++) {
                answers.add(before.embeddings().create(SyntheticEngine.MODEL, List.of("during the change " + i)));
            }
            Eventually.holds(Duration.ofSeconds(60), () -> !revocable.holdsKeys());
            double seconds = (System.nanoTime() - revokedAt) / 1e9;
            System.out.printf("revoked worker dropped its keys %.1f s after the policy change (lease %d s, refresh %d s)%n",
                    seconds, LEASE.toSeconds(), REFRESH.toSeconds());

            assertThat(changed.previousPolicyId()).isNotEqualTo(changed.policyId());
            assertThat(changed.rotatingTopics()).contains(family);
            assertThat(revocable.holdsKeys()).as("keys dropped").isFalse();
            assertThat(revocable.isReady()).isFalse();
            for (CompletableFuture<EmbeddingResult> a : answers) {
                assertThat(a.get(120, TimeUnit.SECONDS).embeddings()).hasSize(1);
            }
        }
        // a client that starts now pins the new policy and seals to the fresh primary, which the revoked worker never got
        assertThat(broker.publicKeys(family, new byte[32]).primaryKeyId()).isNotEqualTo(primaryBefore);
        try (SealstreamClient after = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(90)).build()) {
            List<CompletableFuture<EmbeddingResult>> later = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                later.add(after.embeddings().create(SyntheticEngine.MODEL, List.of("after the change " + i)));
            }
            for (CompletableFuture<EmbeddingResult> a : later) {
                assertThat(a.get(120, TimeUnit.SECONDS).embeddings()).hasSize(1);
            }
        }
        assertThat(CommittedRecords.readAll(stack, stack.names().dlqTopic())).as("dead letters").isEmpty();
        assertThat(revocable.holdsKeys()).as("still revoked").isFalse();
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] sha384(String s) {
        try {
            return MessageDigest.getInstance("SHA-384").digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
