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

    @Override
    public Integer call() throws Exception {
        List<String> input = java.util.stream.IntStream.range(0, texts)
                .mapToObj(i -> "the harbour master's ledger, page " + i).toList();
        StringBuilder json = new StringBuilder("{\"model\":\"%s\",\"input\":[");
        for (int i = 0; i < texts; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(input.get(i)).append('"');
        }
        json.append("]}");
        try (LocalStack stack = LocalStack.start(new LocalStack.Options().workers(1).partitions(1)
                .engine(Engines::defaultEmbeddings))) {
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
                System.out.printf("%-26s %9s %9s %9s%n", "", "p50 ms", "p95 ms", "p99 ms");
                row("Java SDK", sdk);
                row("proxy (HTTP, loopback)", viaProxy);
                row("added, pair by pair", added);
                System.out.printf("proxy p50 / SDK p50: %.2f%n", pct(viaProxy, 50) / pct(sdk, 50));
            }
        }
        return 0;
    }

    private static void row(String name, long[] nanos) {
        System.out.printf("%-26s %9.2f %9.2f %9.2f%n", name, pct(nanos, 50), pct(nanos, 95), pct(nanos, 99));
    }

    /** The {@code p}-th percentile, nearest rank, in milliseconds. */
    private static double pct(long[] nanos, int p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, rank))] / 1e6;
    }
}
