package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.client.SealstreamClient;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.worker.engine.SyntheticEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two worker pools that serve different models (say embeddings on CPU nodes, another model on GPU
 * nodes), and no default pool: the client learns from the pinned policy which pool serves which
 * model and sends each request only to that pool's request topic, so no worker ever answers
 * {@code model_not_served} for a model another pool has.
 */
@WithLocalStack
class ModelPoolsTest {
    private static final String CPU_MODEL = SyntheticEngine.MODEL;
    private static final String GPU_MODEL = "synthetic-gpu-pool";
    private static LocalStack stack;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20))
                .pool("cpu", 1, SyntheticEngine::new)
                .pool("gpu", 1, () -> new SyntheticEngine(GPU_MODEL));
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
    }

    @Test
    void thePinnedPolicyNamesEachPoolsModels() {
        try (SealstreamClient acme = stack.client("acme")) {
            assertThat(acme.verifyKeyBroker().policy().pools())
                    .isEqualTo(Map.of("cpu", java.util.Set.of(CPU_MODEL), "gpu", java.util.Set.of(GPU_MODEL)));
        }
    }

    @Test
    void mixedRequestsAreEachAnsweredByThePoolThatServesTheirModel() throws Exception {
        List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>();
        try (SealstreamClient acme = stack.clientBuilder("acme").requestTimeout(Duration.ofSeconds(90)).build()) {
            for (int i = 0; i < 40; i++) {
                String model = i % 2 == 0 ? CPU_MODEL : GPU_MODEL;
                answers.add(acme.send("mixed-" + i, embed(model, "text " + i), Duration.ofSeconds(90)));
            }
            for (int i = 0; i < answers.size(); i++) {
                InferenceResponse r = answers.get(i).get(120, TimeUnit.SECONDS);
                assertThat(r.getError()).as("answer %d", i).isNull();
                assertThat(r.getModel()).isEqualTo(i % 2 == 0 ? CPU_MODEL : GPU_MODEL);
            }
        }

        assertThat(keys(stack.requestTopicOf("acme", "gpu"))).filteredOn(k -> k.startsWith("mixed-"))
                .hasSize(20).allMatch(k -> Integer.parseInt(k.substring(6)) % 2 == 1);
        assertThat(keys(stack.requestTopicOf("acme", "cpu"))).filteredOn(k -> k.startsWith("mixed-"))
                .hasSize(20).allMatch(k -> Integer.parseInt(k.substring(6)) % 2 == 0);
    }

    @Test
    void aModelNoPoolServesIsRefusedBeforeAnythingIsSent() {
        try (SealstreamClient acme = stack.client("acme")) {
            assertThatThrownBy(() -> acme.send("nowhere", embed("gpt-9", "x"), Duration.ofSeconds(10)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no worker pool serves model 'gpt-9'")
                    .hasMessageContaining(GPU_MODEL);
            assertThat(acme.stats().sent()).isZero();
        }
    }

    @Test
    void eachPoolHasItsOwnRequestTopicsAndKeyset() {
        assertThat(stack.requestTopicOf("acme", "cpu")).isEqualTo("sealstream.requests-cpu.acme");
        assertThat(stack.requestTopicOf("acme", "gpu")).isEqualTo("sealstream.requests-gpu.acme");
        assertThat(stack.keyBroker().broker().topics())
                .containsExactlyInAnyOrder("sealstream.requests-cpu", "sealstream.requests-gpu");
    }

    private static InferenceRequest embed(String model, String text) {
        return InferenceRequest.newBuilder().setModel(model)
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(text)).build()).build();
    }

    private static List<String> keys(String topic) {
        return CommittedRecords.readAll(stack, topic).stream().map(ConsumerRecord::key).toList();
    }
}
