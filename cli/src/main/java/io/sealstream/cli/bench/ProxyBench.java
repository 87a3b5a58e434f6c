package io.sealstream.cli.bench;

import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.proxy.OpenAiProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench proxy}: the latency the OpenAI-compatible proxy adds over the Java SDK.
 * One embeddings request at a time on the embedded stack, alternately through the SDK and through
 * the proxy over loopback HTTP (so drift of the machine falls on both alike), with percentiles of
 * each and of the difference.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "End-to-end latency through the OpenAI-compatible proxy against the SDK, side by side.")
public final class ProxyBench implements Callable<Integer> {
    @Option(names = "--requests", defaultValue = "300", description = "Measured requests per path (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--texts", defaultValue = "1", description = "Texts per request (default ${DEFAULT-VALUE}).")
    int texts;

    @Option(names = "--chat-model", defaultValue = "../shared/models/stories260K.gguf",
            description = "GGUF model for the streaming figures; skipped when absent (default ${DEFAULT-VALUE}).")
    java.nio.file.Path chatModel;

    @Option(names = "--max-tokens", defaultValue = "128", description = "Tokens per streamed completion (default ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--chat-requests", defaultValue = "40", description = "Measured completions per path (default ${DEFAULT-VALUE}).")
    int chatRequests;

    @Override
    public Integer call() throws Exception {
        List<String> input = java.util.stream.IntStream.range(0, texts)
                .mapToObj(i -> "the harbour master's ledger, page " + i).toList();
        StringBuilder json = new StringBuilder("{\"model\":\"%s\",\"input\":[");
        for (int i = 0; i < texts; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(input.get(i)).append('"');
        }
        json.append("]}");
        boolean chat = java.nio.file.Files.isRegularFile(chatModel);
        LocalStack.Options options = new LocalStack.Options().workers(1).partitions(1).engine(Engines::defaultEmbeddings);
        if (chat) {
            options.chatModel(chatModel);
        }
        try (LocalStack stack = LocalStack.start(options)) {
            stack.awaitWorkersReady(Duration.ofSeconds(120));
            String model = stack.engine().models().iterator().next();
            String body = String.format(json.toString(), model);
            try (SealstreamClient client = stack.client("demo");
                 OpenAiProxy proxy = OpenAiProxy.builder(client).port(0).build()) {
                proxy.start();
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest post = HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/embeddings"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                        .build();
                for (int i = 0; i < 30; i++) { // warm both paths
                    client.embeddings().createBlocking(model, input);
                    http.send(post, HttpResponse.BodyHandlers.ofString());
                }
                long[] sdk = new long[requests];
                long[] viaProxy = new long[requests];
                for (int i = 0; i < requests; i++) {
                    long t0 = System.nanoTime();
                    client.embeddings().createBlocking(model, input);
                    sdk[i] = System.nanoTime() - t0;
                    t0 = System.nanoTime();
                    HttpResponse<String> r = http.send(post, HttpResponse.BodyHandlers.ofString());
                    viaProxy[i] = System.nanoTime() - t0;
                    if (r.statusCode() != 200) {
                        System.err.println("sealstream bench proxy: the proxy answered " + r.statusCode() + ": "
                                + r.body());
                        return 1;
                    }
                }
                long[] added = new long[requests];
                for (int i = 0; i < requests; i++) {
                    added[i] = viaProxy[i] - sdk[i];
                }
                System.out.printf("Proxy latency, %s, %d text(s) per request, %d requests per path, one at a time, "
                        + "%d cores%n", model, texts, requests, Runtime.getRuntime().availableProcessors());
                System.out.printf("%-38s %9s %9s %9s%n", "", "p50 ms", "p95 ms", "p99 ms");
                row("Java SDK", sdk);
                row("proxy (HTTP, loopback)", viaProxy);
                row("added, pair by pair", added);
                System.out.printf("proxy p50 / SDK p50: %.2f%n", pct(viaProxy, 50) / pct(sdk, 50));
                if (chat) {
                    chatFigures(stack, client, proxy, http);
                } else {
                    System.out.println("streaming figures skipped: no GGUF model at " + chatModel.toAbsolutePath()
                            + "; pass --chat-model PATH");
                }
            }
        }
        return 0;
    }

    /**
     * Time to the first text and to the whole answer of one chat completion at a time: whole
     * through the SDK, streamed through the SDK, and streamed through the proxy (to the first
     * content event), side by side.
     */
    private void chatFigures(LocalStack stack, SealstreamClient client, OpenAiProxy proxy, HttpClient http)
            throws Exception {
        String model = ((io.sealstream.worker.engine.ChatEngine) stack.engines().get(1)).models().iterator().next();
        io.sealstream.client.ChatCompletionRequest request = io.sealstream.client.ChatCompletionRequest.builder(model)
                .user("Once upon a time").maxTokens(maxTokens).temperature(0).build();
        HttpRequest post = HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"" + model + "\",\"max_tokens\":" + maxTokens + ",\"temperature\":0,\"stream\":true,"
                                + "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}")).build();
        long[] whole = new long[chatRequests];
        long[] firstSdk = new long[chatRequests];
        long[] allSdk = new long[chatRequests];
        long[] firstProxy = new long[chatRequests];
        long[] allProxy = new long[chatRequests];
        int tokens = 0;
        for (int i = -5; i < chatRequests; i++) { // five to warm
            long t0 = System.nanoTime();
            tokens = client.chat().completions().createBlocking(request).completionTokens();
            long w = System.nanoTime() - t0;
            long[] first = {0};
            long s0 = System.nanoTime();
            client.chat().completions().stream(request, text -> {
                if (first[0] == 0) {
                    first[0] = System.nanoTime() - s0;
                }
            }).get();
            long s = System.nanoTime() - s0;
            long p0 = System.nanoTime();
            long pFirst = 0;
            HttpResponse<java.util.stream.Stream<String>> r = http.send(post, HttpResponse.BodyHandlers.ofLines());
            for (java.util.Iterator<String> lines = r.body().iterator(); lines.hasNext(); ) {
                String line = lines.next();
                if (pFirst == 0 && line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) {
                    pFirst = System.nanoTime() - p0;
                }
            }
            long p = System.nanoTime() - p0;
            if (i >= 0) {
                whole[i] = w;
                firstSdk[i] = first[0];
                allSdk[i] = s;
                firstProxy[i] = pFirst;
                allProxy[i] = p;
            }
        }
        System.out.printf("%nChat, %s, %d tokens per completion (%d generated), one at a time, %d per path%n", model,
                maxTokens, tokens, chatRequests);
        System.out.printf("%-38s %9s %9s %9s%n", "", "p50 ms", "p95 ms", "p99 ms");
        row("whole answer, SDK", whole);
        row("streamed, SDK: first text", firstSdk);
        row("streamed, SDK: whole answer", allSdk);
        row("streamed, proxy: first content event", firstProxy);
        row("streamed, proxy: [DONE]", allProxy);
        System.out.printf("first streamed text / whole answer (p50): %.2f%n", pct(firstSdk, 50) / pct(whole, 50));
    }

    private static void row(String name, long[] nanos) {
        System.out.printf("%-38s %9.2f %9.2f %9.2f%n", name, pct(nanos, 50), pct(nanos, 95), pct(nanos, 99));
    }

    /** The {@code p}-th percentile, nearest rank, in milliseconds. */
    private static double pct(long[] nanos, int p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, rank))] / 1e6;
    }
}
