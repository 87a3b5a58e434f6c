package io.sealstream.cli.bench;

import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.OpenedRequest;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.SessionKeyCache;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench envelope}: the cost of envelope v1 on this machine, single-threaded.
 *
 * <p>Per request: client seal (HKDF + AES-GCM + Avro), worker open with a warm session-key cache
 * (HKDF x2 + AES-GCM), worker seal of a 384-float embedding response and client open of it.
 * Per session: HPKE wrap when the client opens a session, and a worker open with a cold cache,
 * whose extra cost over a warm open is the HPKE unwrap.
 */
@Command(name = "envelope", mixinStandardHelpOptions = true,
        description = "Per-request and per-session cost of the crypto envelope.")
public final class EnvelopeBench implements Callable<Integer> {
    private static final String TOPIC = "bench.requests";

    @Option(names = "--prompt-bytes", defaultValue = "1024", description = "Prompt size (default ${DEFAULT-VALUE}).")
    int promptBytes;

    @Option(names = "--requests", defaultValue = "20000", description = "Measured requests (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--sessions", defaultValue = "500", description = "Measured sessions (default ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--warmup", defaultValue = "5000", description = "Warm-up requests (default ${DEFAULT-VALUE}).")
    int warmup;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
        InferenceRequest prompt = InferenceRequest.newBuilder().setModel("bench")
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of("x".repeat(promptBytes))).build()).build();
        InferenceResponse answer = embeddingAnswer();

        ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId("bench")
                .maxRecords(Long.MAX_VALUE).build();
        RequestOpener warm = RequestOpener.builder().build(keyset);
        runRequests(session, warm, prompt, answer, warmup, null);
        long[][] perRequest = new long[4][requests];
        runRequests(session, warm, prompt, answer, requests, perRequest);

        long[] wrap = new long[sessions];
        long[] coldOpen = new long[sessions];
        for (int i = 0; i < sessions + sessions / 5; i++) {
            int at = i - sessions / 5; // the first fifth warms up
            long t0 = System.nanoTime();
            ClientSession s = ClientSession.builder(keyset.publicKeys()).clientId("bench").build();
            long t1 = System.nanoTime();
            EncryptedRequest r = s.seal(prompt).toRecord();
            RequestOpener cold = RequestOpener.builder().sessionKeyCache(new SessionKeyCache()).build(keyset);
            long t2 = System.nanoTime();
            cold.open(TOPIC, r);
            long t3 = System.nanoTime();
            if (at >= 0) {
                wrap[at] = t1 - t0;
                coldOpen[at] = t3 - t2;
            }
        }

        out.printf("Envelope v1 on %d core(s), Java %s, prompt %d bytes, %d requests, %d sessions%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), promptBytes,
                requests, sessions);
        out.printf("%-44s %12s %12s %12s%n", "operation", "mean µs", "p50 µs", "p99 µs");
        row(out, "client seal request", perRequest[0]);
        row(out, "worker open request (warm DEK cache)", perRequest[1]);
        row(out, "worker seal response (384 floats)", perRequest[2]);
        row(out, "client open response", perRequest[3]);
        long[] roundTrip = new long[requests];
        for (int i = 0; i < requests; i++) {
            roundTrip[i] = perRequest[0][i] + perRequest[1][i] + perRequest[2][i] + perRequest[3][i];
        }
        row(out, "= per-request envelope cost", roundTrip);
        row(out, "session set-up: HPKE wrap (client)", wrap);
        row(out, "worker open request (cold DEK cache)", coldOpen);
        out.printf("%-44s %12.1f%n", "≈ session set-up: HPKE unwrap (worker)", (mean(coldOpen) - mean(perRequest[1])) / 1000.0);
        out.printf("%-44s %12.0f%n", "request round trips per second (1 thread)", 1e9 / mean(roundTrip));
        return 0;
    }

    private static void runRequests(ClientSession session, RequestOpener opener, InferenceRequest prompt,
                                    InferenceResponse answer, int n, long[][] times) throws Exception {
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            EncryptedRequest sealed = session.seal("req-" + i, prompt).toRecord();
            long t1 = System.nanoTime();
            OpenedRequest opened = opener.open(TOPIC, sealed);
            long t2 = System.nanoTime();
            EncryptedResponse response = opened.sealResponse(answer, Instant.now());
            long t3 = System.nanoTime();
            session.open(response);
            long t4 = System.nanoTime();
            if (times != null) {
                times[0][i] = t1 - t0;
                times[1][i] = t2 - t1;
                times[2][i] = t3 - t2;
                times[3][i] = t4 - t3;
            }
        }
    }

    private static InferenceResponse embeddingAnswer() {
        List<Float> vector = new ArrayList<>();
        for (int i = 0; i < 384; i++) {
            vector.add((float) Math.sin(i));
        }
        return InferenceResponse.newBuilder().setModel("bench")
                .setOutput(EmbeddingsResult.newBuilder().setData(List.of(new Embedding(0, vector)))
                        .setUsage(new Usage(256, 0, 256)).build())
                .setError(null).build();
    }

    private static void row(PrintStream out, String name, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        out.printf("%-44s %12.1f %12.1f %12.1f%n", name, mean(nanos) / 1000.0,
                sorted[sorted.length / 2] / 1000.0, sorted[(int) (sorted.length * 0.99)] / 1000.0);
    }

    private static double mean(long[] nanos) {
        return Arrays.stream(nanos).average().orElse(0);
    }
}
