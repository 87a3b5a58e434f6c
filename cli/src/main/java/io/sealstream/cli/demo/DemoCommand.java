package io.sealstream.cli.demo;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.Similarity;
import io.sealstream.client.VerifiedTopic;
import io.sealstream.cli.stack.StackDataDir;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import java.io.PrintStream;
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
 * {@code sealstream demo}: the embedded stack, a sample batch of sentence embeddings through the
 * whole confidential pipeline, a summary, and shutdown.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start the embedded stack, embed a sample batch through the confidential pipeline, summarize, stop.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--texts", defaultValue = "100", description = "Sample texts to embed (default ${DEFAULT-VALUE}).")
    int texts;

    @Option(names = "--workers", defaultValue = "2", description = "Workers (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--batch-size", defaultValue = "16", description = "Worker max batch size (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--chat", description = "Complete story openings with a GGUF chat model instead of embedding texts.")
    boolean chat;

    @Option(names = "--model", defaultValue = "../shared/models/stories260K.gguf",
            description = "The GGUF model for --chat (default ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--verbose", description = "Log to the console instead of the log file in the data directory.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        long started = System.nanoTime();
        if (chat && !Files.isRegularFile(model)) {
            System.err.println("sealstream demo --chat: no GGUF model at " + model.toAbsolutePath()
                    + "; pass --model PATH (../shared/models/stories260K.gguf is the tiny test model)");
            return 2;
        }
        StackDataDir dataDir = StackDataDir.create(verbose);
        int status;
        try (dataDir) {
            out.println("Starting the embedded stack (Kafka, schema registry, key broker, " + workers + " workers) ...");
            out.println("Log: " + dataDir.logDescription());
            status = run(out, dataDir, started);
        }
        if (!verbose) {
            out.println("The log is kept at " + dataDir.logDescription());
        }
        return status;
    }

    private int run(PrintStream out, StackDataDir dataDir, long started) throws Exception {
        int status = 0;
        try (LocalStack stack = LocalStack.start(new LocalStack.Options().workers(workers).maxBatchSize(batchSize)
                .batchLinger(Duration.ofMillis(50)).engine(Engines::defaultEmbeddings)
                .chatModel(chat ? model : null).dataDir(dataDir.dir()))) {
            if (!stack.awaitWorkersReady(Duration.ofSeconds(120))) {
                out.println("The workers did not become ready within 120 s; the log says why: " + dataDir.logDescription());
                return 1;
            }
            out.printf("Kafka %s (%s) | registry %s | key broker %s%n", stack.kafka().bootstrapServers(),
                    stack.kafka().isSecured() ? "SASL_SSL, ACLs" : "PLAINTEXT", stack.registry().url(), stack.keyBroker().url());
            if (chat) {
                status = ChatDemo.run(stack, model, out);
                out.println("Stopping the stack ...");
                stack.close();
                out.printf("Demo wall time %.1f s%n", (System.nanoTime() - started) / 1e9);
                return status;
            }
            String model = stack.engine().models().iterator().next();
            try (SealstreamClient client = stack.client("demo")) {
                VerifiedTopic verified = client.verifyKeyBroker();
                out.printf("Key broker verified: measurement %s (simulated TEE: %s), policy %s%n",
                        verified.brokerClaims().measurementHex().substring(0, 16) + "…",
                        verified.brokerClaims().simulated(), verified.policy().id().substring(0, 16) + "…");

                List<String> sample = SampleTexts.batch(texts);
                long t0 = System.nanoTime();
                List<CompletableFuture<EmbeddingResult>> futures = new ArrayList<>();
                for (String text : sample) {
                    futures.add(client.embeddings().create(model, List.of(text)));
                }
                int ok = 0;
                int failed = 0;
                int dims = 0;
                for (CompletableFuture<EmbeddingResult> f : futures) {
                    try {
                        dims = f.get().embeddings().get(0).length;
                        ok++;
                    } catch (Exception e) {
                        failed++;
                    }
                }
                double pipelineSeconds = (System.nanoTime() - t0) / 1e9;

                double[] similarities = new double[SampleTexts.PAIRS.length];
                for (int i = 0; i < SampleTexts.PAIRS.length; i++) {
                    EmbeddingResult pair = client.embeddings().createBlocking(model, List.of(SampleTexts.PAIRS[i]));
                    similarities[i] = Similarity.cosine(pair.embeddings().get(0), pair.embeddings().get(1));
                }

                double rawPerSecond = rawEngineRate(stack, model, sample, batchSize);
                out.println();
                out.println("Sealstream demo summary");
                out.printf("  requests sent / answered / failed   %d / %d / %d%n", sample.size(), ok, failed);
                out.printf("  embedding dimensions                %d (%s)%n", dims, model);
                out.printf("  similarity \"%s\" ~ \"%s\"   %.3f%n", SampleTexts.PAIRS[0][0], SampleTexts.PAIRS[0][1], similarities[0]);
                out.printf("  similarity \"%s\" ~ \"%s\"   %.3f%n", SampleTexts.PAIRS[1][0], SampleTexts.PAIRS[1][1], similarities[1]);
                out.printf("  pipeline throughput                 %.1f embeddings/s (%d in %.2f s)%n",
                        ok / pipelineSeconds, ok, pipelineSeconds);
                out.printf("  raw engine, batch %-3d               %.1f embeddings/s (same texts, same run)%n", batchSize, rawPerSecond);
                out.printf("  pipeline efficiency                 %.0f%%%n", 100 * (ok / pipelineSeconds) / rawPerSecond);
                out.printf("  duplicates dropped by the client    %d%n", client.stats().duplicatesDropped());
            }
            out.println("Stopping the stack ...");
        }
        out.printf("Demo wall time %.1f s%n", (System.nanoTime() - started) / 1e9);
        return 0;
    }

    private static double rawEngineRate(LocalStack stack, String model, List<String> texts, int batchSize) {
        List<InferenceRequest> requests = texts.stream().map(t -> InferenceRequest.newBuilder().setModel(model)
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(t)).build()).build()).toList();
        stack.engine().infer(requests.subList(0, Math.min(batchSize, requests.size()))); // warm
        long t0 = System.nanoTime();
        for (int i = 0; i < requests.size(); i += batchSize) {
            stack.engine().infer(requests.subList(i, Math.min(i + batchSize, requests.size())));
        }
        return requests.size() / ((System.nanoTime() - t0) / 1e9);
    }
}
