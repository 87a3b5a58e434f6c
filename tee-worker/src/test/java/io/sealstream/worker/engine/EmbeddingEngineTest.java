package io.sealstream.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real MiniLM models, offline, against the published reference values. */
class EmbeddingEngineTest {
    private static final String CANARY = "CANARY-engine-91f2";
    private static EmbeddingEngine fp32;
    private static EmbeddingEngine quantized;

    @BeforeAll
    static void load() {
        fp32 = EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2);
        quantized = EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q);
    }

    @AfterAll
    static void unload() {
        fp32.close();
        quantized.close();
    }

    @Test
    void theFp32ModelReproducesTheReferenceEmbedding() {
        float[] v = fp32.embed(List.of("This is an example sentence"))[0];

        assertThat(v).hasSize(384);
        assertThat(v[0]).isCloseTo(0.067657f, within(1e-4f));
        assertThat(v[1]).isCloseTo(0.063496f, within(1e-4f));
        assertThat(v[2]).isCloseTo(0.048713f, within(1e-4f));
        assertThat(v[3]).isCloseTo(0.079305f, within(1e-4f));
        assertThat(v[4]).isCloseTo(0.037448f, within(1e-4f));
        assertThat(norm(v)).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void theQuantizedModelAgreesWithFp32() {
        List<String> texts = List.of("This is an example sentence", "The cat sits on the mat.",
                "Quarterly revenue grew by eight percent.");
        float[][] q = quantized.embed(texts);
        float[][] f = fp32.embed(texts);

        for (int i = 0; i < texts.size(); i++) {
            // int8 weights and activations cost a little accuracy (about 0.985 measured here)
            assertThat(cosine(q[i], f[i])).as(texts.get(i)).isGreaterThan(0.97);
        }
    }

    @Test
    void closeMeaningsAreCloserThanUnrelatedOnes() {
        float[][] v = quantized.embed(List.of("The cat sits on the mat.", "A kitten is resting on a rug.",
                "Quarterly revenue grew by eight percent."));

        assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]) + 0.2);
    }

    @Test
    void withFp32ABatchGivesTheSameVectorsAsOneAtATime() {
        List<String> texts = List.of("short", "a somewhat longer sentence with several more word pieces in it",
                "medium length text here");
        float[][] batched = fp32.embed(texts);

        for (int i = 0; i < texts.size(); i++) {
            assertThat(cosine(batched[i], fp32.embed(List.of(texts.get(i)))[0])).isGreaterThan(0.9999);
        }
    }

    @Test
    void withTheQuantizedModelBatchingShiftsVectorsSlightly() {
        // dynamic int8 quantization takes one activation scale per input tensor, so the other
        // texts of a batch (and their padding) move a vector a little: docs/engines.md
        List<String> texts = List.of("short", "a somewhat longer sentence with several more word pieces in it",
                "medium length text here");
        float[][] batched = quantized.embed(texts);

        for (int i = 0; i < texts.size(); i++) {
            assertThat(cosine(batched[i], quantized.embed(List.of(texts.get(i)))[0])).isGreaterThan(0.95);
        }
    }

    @Test
    void inferAnswersEveryRequestInOrderAndRefusesBadOnesWithoutQuotingThem() {
        String model = EmbeddingModel.ALL_MINILM_L6_V2_Q.modelName();
        List<InferenceResponse> out = quantized.infer(List.of(
                embeddings(model, "first", "second " + CANARY),
                chat(model, CANARY),
                embeddings(model),
                embeddings("some-other-model", CANARY),
                embeddings(model, "third")));

        EmbeddingsResult first = (EmbeddingsResult) out.get(0).getOutput();
        assertThat(first.getData()).extracting(e -> e.getIndex()).containsExactly(0, 1);
        assertThat(first.getUsage().getPromptTokens()).isPositive();
        assertThat(out.get(1).getError().getCode()).isEqualTo("unsupported_task");
        assertThat(out.get(2).getError().getCode()).isEqualTo("invalid_request");
        assertThat(out.get(3).getError().getCode()).isEqualTo("model_not_served");
        assertThat(((EmbeddingsResult) out.get(4).getOutput()).getData()).hasSize(1);
        assertThat(out).allSatisfy(r -> {
            if (r.getError() != null) {
                assertThat(r.getError().getMessage()).doesNotContain(CANARY);
            }
        });
    }

    @Test
    void theModelDigestIsStableAndDiffersBetweenModels() {
        try (EmbeddingEngine again = EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q)) {
            assertThat(again.modelDigest()).hasSize(32).isEqualTo(quantized.modelDigest());
        }
        assertThat(fp32.modelDigest()).isNotEqualTo(quantized.modelDigest());
    }

    private static InferenceRequest embeddings(String model, String... texts) {
        return InferenceRequest.newBuilder().setModel(model)
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(texts)).build()).build();
    }

    private static InferenceRequest chat(String model, String text) {
        return InferenceRequest.newBuilder().setModel(model).setTask(ChatInput.newBuilder()
                .setMessages(List.of(new ChatMessage(ChatRole.user, text)))
                .setParameters(ChatParameters.newBuilder().build()).build()).build();
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float f : v) {
            s += f * f;
        }
        return Math.sqrt(s);
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
        }
        return dot / (norm(a) * norm(b));
    }
}
