package io.sealstream.cli.demo;

import io.sealstream.client.ChatCompletion;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.LocalStack;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.worker.engine.ChatEngine;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The chat part of {@code sealstream demo --chat}: story openings completed by the GGUF model
 * through the confidential pipeline, the first one compared with the engine called directly, and
 * tokens per second of both.
 */
public final class ChatDemo {
    /** Story openings for the tiny story model: the demo's and the chat benchmark's prompts. */
    public static final List<String> OPENINGS = List.of("Once upon a time", "The little dog", "One day, Lily",
            "Tom had a red ball", "The sun was shining", "There was a big tree", "Mom said", "The cat and the bird");
    static final int MAX_TOKENS = 48;

    private ChatDemo() {
    }

    static int run(LocalStack stack, Path modelFile, PrintStream out) throws Exception {
        ChatEngine engine = (ChatEngine) stack.engines().stream().filter(e -> e instanceof ChatEngine).findFirst()
                .orElseThrow();
        String model = engine.models().iterator().next();
        out.printf("Chat model %s (%s), SHA-256 %s…, allowed by policy %s…%n", model, modelFile,
                java.util.HexFormat.of().formatHex(engine.modelDigest()).substring(0, 16),
                stack.policy().id().substring(0, 16));
        try (SealstreamClient client = stack.client("demo")) {
            client.verifyKeyBroker();
            long t0 = System.nanoTime();
            List<CompletableFuture<ChatCompletion>> futures = new ArrayList<>();
            for (String opening : OPENINGS) {
                futures.add(client.chat().completions().create(ChatCompletionRequest.builder(model).user(opening)
                        .maxTokens(MAX_TOKENS).temperature(0).build()));
            }
            int tokens = 0;
            int failed = 0;
            List<ChatCompletion> done = new ArrayList<>();
            for (CompletableFuture<ChatCompletion> f : futures) {
                try {
                    ChatCompletion c = f.get();
                    done.add(c);
                    tokens += c.completionTokens();
                } catch (Exception e) {
                    failed++;
                }
            }
            double pipelineSeconds = (System.nanoTime() - t0) / 1e9;
            out.println();
            for (int i = 0; i < done.size(); i++) {
                out.printf("  %s%s%n", OPENINGS.get(i), done.get(i).content().replace('\n', ' '));
            }
            ChatResult direct = engine.complete(List.of(new ChatMessage(ChatRole.user, OPENINGS.get(0))),
                    new ChatParameters(MAX_TOKENS, 0f, null, List.of(), null, false));
            long r0 = System.nanoTime();
            int rawTokens = 0;
            for (String opening : OPENINGS) {
                rawTokens += engine.complete(List.of(new ChatMessage(ChatRole.user, opening)),
                        new ChatParameters(MAX_TOKENS, 0f, null, List.of(), null, false)).getUsage().getCompletionTokens();
            }
            double rawSeconds = (System.nanoTime() - r0) / 1e9;
            out.println();
            out.println("Sealstream chat demo summary");
            out.printf("  requests sent / answered / failed   %d / %d / %d%n", OPENINGS.size(), done.size(), failed);
            out.printf("  same text as the engine directly    %s (greedy, \"%s\")%n",
                    !done.isEmpty() && done.get(0).content().equals(direct.getContent()) ? "yes" : "NO", OPENINGS.get(0));
            out.printf("  pipeline throughput                 %.1f tokens/s (%d tokens in %.2f s, all in flight)%n",
                    tokens / pipelineSeconds, tokens, pipelineSeconds);
            out.printf("  raw engine, one at a time           %.1f tokens/s (same prompts, same run)%n",
                    rawTokens / rawSeconds);
            out.printf("  duplicates dropped by the client    %d%n", client.stats().duplicatesDropped());
            return failed == 0 ? 0 : 1;
        }
    }
}
