package io.sealstream.client;

import io.sealstream.schemas.RequestLimits;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.InferenceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** The embeddings API of a {@link SealstreamClient} (OpenAI {@code /v1/embeddings} semantics). */
public final class Embeddings {
    private final SealstreamClient client;

    Embeddings(SealstreamClient client) {
        this.client = client;
    }

    /** Embeds {@code input} with {@code model} under a fresh request id. */
    public CompletableFuture<EmbeddingResult> create(String model, List<String> input) {
        return create(SealstreamClient.newRequestId(), model, input);
    }

    /**
     * Embeds {@code input} with {@code model} under {@code requestId}; sending the same id again is
     * a safe retry: only one answer completes the future.
     */
    public CompletableFuture<EmbeddingResult> create(String requestId, String model, List<String> input) {
        return client.submit(requestId, request(model, input)).thenApply(Embeddings::toResult);
    }

    /** As {@link #create(String, String, List)}, failing with {@link RequestTimeoutException} after {@code timeout}. */
    public CompletableFuture<EmbeddingResult> create(String requestId, String model, List<String> input,
                                                     java.time.Duration timeout) {
        return client.submit(requestId, request(model, input), timeout).thenApply(Embeddings::toResult);
    }

    static InferenceRequest request(String model, List<String> input) {
        Objects.requireNonNull(model, "model");
        if (input == null || input.isEmpty()) {
            throw new IllegalArgumentException("embeddings need at least one input text");
        }
        if (input.size() > RequestLimits.MAX_EMBEDDING_INPUTS) {
            throw new IllegalArgumentException("an embeddings request takes at most " + RequestLimits.MAX_EMBEDDING_INPUTS
                    + " texts, got " + input.size() + "; split the input over several requests");
        }
        return InferenceRequest.newBuilder().setModel(model)
                .setTask(EmbeddingsInput.newBuilder().setInput(List.copyOf(input)).build()).build();
    }

    /** {@link #create(String, List)} and wait; failures are thrown as {@link SealstreamException}s. */
    public EmbeddingResult createBlocking(String model, List<String> input) {
        return Blocking.await(create(model, input), "embeddings");
    }

    private static EmbeddingResult toResult(Answer r) {
        if (!(r.body().getOutput() instanceof EmbeddingsResult result)) {
            throw new CompletionException(new RequestRejectedException(r.requestId(), "unexpected_output",
                    "the worker answered an embeddings request with another kind of output"));
        }
        List<float[]> vectors = new ArrayList<>();
        for (Embedding e : result.getData()) {
            float[] v = new float[e.getVector().size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = e.getVector().get(i);
            }
            vectors.add(v);
        }
        return new EmbeddingResult(r.requestId(), r.body().getModel(), List.copyOf(vectors),
                result.getUsage().getPromptTokens(), r.provenance());
    }
}
