package io.sealstream.cli.bench;

import io.sealstream.cli.demo.ChatDemo;
import io.sealstream.client.ChatCompletion;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.ChatModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench chat}: generated tokens per second of the llama.cpp engine called
 * directly, with parallel slots and one sequence at a time, and through the whole confidential
 * pipeline, at batch sizes 1, 4 and 8, all in one run.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Tokens/s of the chat engine (parallel slots vs one at a time) and through the pipeline.")
public final class ChatBench implements Callable<Integer> {
    private static final List<String> PROMPTS = ChatDemo.OPENINGS;
    /** Pipeline measurements per batch size, each between two engine runs. */
    private static final int PIPELINE_ROUNDS = 3;

    @Option(names = "--model", defaultValue = "../shared/models/stories260K.gguf", description = "GGUF model (default ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--max-tokens", defaultValue = "64", description = "Tokens per completion (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--rounds", defaultValue = "5", description = "Measured rounds per batch size (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--batch-sizes", defaultValue = "1,4,8", split = ",", description = "Batch sizes (default ${DEFAULT-VALUE}).")
    List<Integer> batchSizes;

    @Option(names = "--no-pipeline", description = "Measure the engine only.")
    boolean noPipeline;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            System.err.println("sealstream bench chat: no GGUF model at " + model.toAbsolutePath() + "; pass --model PATH");
            return 2;
        }
        int slots = ChatModel.DEFAULT_PARALLEL_SLOTS;
        System.out.printf("Chat generation, %s, %d tokens per completion (greedy), %d rounds, %d cores%n",
                model.getFileName(), maxTokens, rounds, Runtime.getRuntime().availableProcessors());
        System.out.printf("%-6s %18s %18s %s%n", "batch", slots + " slots, tokens/s", "1 slot, tokens/s",
                noPipeline ? "" : "pipeline, tokens/s (share of " + slots + " slots: median of " + PIPELINE_ROUNDS
                        + " rounds, each between two engine runs, and range)");
        try (ChatEngine parallel = ChatEngine.load(ChatModel.of(model));
             ChatEngine sequential = ChatEngine.load(ChatModel.of(model).withParallelSlots(1).withContextSize(
                     parallel.sequenceContext()));
             LocalStack stack = noPipeline ? null : LocalStack.start(new LocalStack.Options().workers(1).partitions(1)
                     .maxBatchSize(8).batchLinger(Duration.ofMillis(20)).engine(Engines::defaultEmbeddings)
                     .chatModel(model))) {
            SealstreamClient client = null;
            if (stack != null) {
                stack.awaitWorkersReady(Duration.ofSeconds(120));
                client = stack.client("demo");
            }
            String name = parallel.models().iterator().next();
            List<String> transactions = new ArrayList<>();
            for (int b : batchSizes) {
                double s = engineRate(sequential, name, b);
                double p = engineRate(parallel, name, b);
                if (client == null) {
                    System.out.printf("%-6d %18.1f %18.1f%n", b, p, s);
                    continue;
                }
                RoundRatios shares = new RoundRatios();
                double pipedSum = 0;
                double engineSum = p;
                long committed = 0;
                double pipedSeconds = 0;
                for (int round = 0; round < PIPELINE_ROUNDS; round++) {
                    BrokerRequests before = BrokerRequests.read();
                    long t0 = System.nanoTime();
                    double piped = pipelineRate(client, name, b);
                    pipedSeconds += (System.nanoTime() - t0) / 1e9;
                    committed += BrokerRequests.read().transactionsSince(before);
                    double after = engineRate(parallel, name, b);
                    shares.add(piped, p, after);
                    pipedSum += piped;
                    engineSum += after;
                    p = after;
                }
                System.out.printf("%-6d %18.1f %18.1f %.1f (%.0f%%, %.0f - %.0f%%)%n", b, engineSum / (PIPELINE_ROUNDS + 1), s,
                        pipedSum / PIPELINE_ROUNDS, 100 * shares.median(), 100 * shares.min(), 100 * shares.max());
                transactions.add(String.format("batch %d: %.1f transactions per round (%.1f/s)", b,
                        committed / (double) (PIPELINE_ROUNDS * (rounds + 1)), committed / pipedSeconds));
            }
            if (client != null) {
                // each transaction the worker commits while it only waits for a batch costs the
                // broker CPU that the engine, on the same cores, could have used
                transactions.forEach(t -> System.out.println("worker " + t));
                client.close();
            }
        }
        return 0;
    }

    private double engineRate(ChatEngine engine, String name, int batch) {
        List<InferenceRequest> requests = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            requests.add(new InferenceRequest(name, new ChatInput(List.of(new ChatMessage(ChatRole.user,
                    PROMPTS.get(i % PROMPTS.size()))), new ChatParameters(maxTokens, 0f, null, List.of(), null, false))));
        }
        engine.infer(requests); // warm
        long tokens = 0;
        long t0 = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            for (InferenceResponse answer : engine.infer(requests)) {
                tokens += ((ChatResult) answer.getOutput()).getUsage().getCompletionTokens();
            }
        }
        return tokens / ((System.nanoTime() - t0) / 1e9);
    }

    private double pipelineRate(SealstreamClient client, String name, int batch) throws Exception {
        round(client, name, batch); // warm
        long tokens = 0;
        long t0 = System.nanoTime();
        for (int r = 0; r < rounds; r++) {
            tokens += round(client, name, batch);
        }
        return tokens / ((System.nanoTime() - t0) / 1e9);
    }

    private long round(SealstreamClient client, String name, int batch) throws Exception {
        List<CompletableFuture<ChatCompletion>> futures = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            futures.add(client.chat().completions().create(ChatCompletionRequest.builder(name)
                    .user(PROMPTS.get(i % PROMPTS.size())).maxTokens(maxTokens).temperature(0).build()));
        }
        long tokens = 0;
        for (CompletableFuture<ChatCompletion> f : futures) {
            tokens += f.get().completionTokens();
        }
        return tokens;
    }
}
