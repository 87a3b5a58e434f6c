package io.sealstream.client;

import io.sealstream.schemas.v1.ChatResult;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** The chat API of a {@link SealstreamClient}: {@code client.chat().completions().create(...)}. */
public final class Chat {
    private final Completions completions;

    Chat(SealstreamClient client) {
        this.completions = new Completions(client);
    }

    /** Chat completions ({@code /v1/chat/completions}). */
    public Completions completions() {
        return completions;
    }

    /** Chat completions, sealed for the workers and answered on this client's response topic. */
    public static final class Completions {
        private final SealstreamClient client;

        private Completions(SealstreamClient client) {
            this.client = client;
        }

        /** Sends {@code request} under a fresh request id. */
        public CompletableFuture<ChatCompletion> create(ChatCompletionRequest request) {
            return create(SealstreamClient.newRequestId(), request);
        }

        /**
         * Sends {@code request} under {@code requestId}; sending the same id again is a safe retry:
         * only one answer completes the future.
         */
        public CompletableFuture<ChatCompletion> create(String requestId, ChatCompletionRequest request) {
            return client.submit(requestId, request.toInferenceRequest()).thenApply(Completions::toCompletion);
        }

        /** As {@link #create(String, ChatCompletionRequest)}, failing with {@link RequestTimeoutException} after {@code timeout}. */
        public CompletableFuture<ChatCompletion> create(String requestId, ChatCompletionRequest request,
                                                        java.time.Duration timeout) {
            return client.submit(requestId, request.toInferenceRequest(), timeout).thenApply(Completions::toCompletion);
        }

        /**
         * Sends {@code request} and hands its answer's text to {@code onText} as the worker
         * generates it (docs/streaming.md): in order, each piece once; the pieces together are the
         * completion's content when the future completes. If a worker dies mid-generation and the
         * answer that counts begins otherwise than what was handed on, the future fails with
         * {@link StreamDivergedException}, which holds that answer.
         */
        public CompletableFuture<ChatCompletion> stream(ChatCompletionRequest request,
                                                        java.util.function.Consumer<String> onText) {
            return stream(SealstreamClient.newRequestId(), request, client.requestTimeout(), onText);
        }

        /** As {@link #stream(ChatCompletionRequest, java.util.function.Consumer)} under {@code requestId} and {@code timeout}. */
        public CompletableFuture<ChatCompletion> stream(String requestId, ChatCompletionRequest request,
                                                        java.time.Duration timeout,
                                                        java.util.function.Consumer<String> onText) {
            return client.answerStreaming(requestId, request.toInferenceRequest(), timeout, onText)
                    .thenApply(Completions::toCompletion);
        }

        /** {@link #create(ChatCompletionRequest)} and wait; failures are thrown as {@link SealstreamException}s. */
        public ChatCompletion createBlocking(ChatCompletionRequest request) {
            return Blocking.await(create(request), "chat completion");
        }

        private static ChatCompletion toCompletion(Answer r) {
            if (!(r.body().getOutput() instanceof ChatResult result)) {
                throw new CompletionException(new RequestRejectedException(r.requestId(), "unexpected_output",
                        "the worker answered a chat request with another kind of output"));
            }
            return new ChatCompletion(r.requestId(), r.body().getModel(), result.getContent(),
                    result.getFinishReason().name(), result.getUsage().getPromptTokens(),
                    result.getUsage().getCompletionTokens(), r.provenance());
        }
    }
}
