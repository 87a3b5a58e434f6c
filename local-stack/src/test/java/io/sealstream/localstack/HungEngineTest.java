package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.engine.InferenceEngine;
import io.sealstream.worker.engine.SyntheticEngine;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A request that hangs the engine, through a real worker: its batch is answered with an error
 * and the worker steps aside, instead of the request moving on to hang the next worker.
 */
@WithLocalStack
class HungEngineTest {
    /** Twice this, one batch means a hung engine: short, so that the test waits seconds, not minutes. */
    private static final Duration TRANSACTION_TIMEOUT = Duration.ofSeconds(4);

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(0).partitions(1).engine(SyntheticEngine::new)
                .transactionTimeout(TRANSACTION_TIMEOUT);
    }

    @Test
    void aRequestThatHangsTheEngineIsAnsweredWithAnErrorOnceAndItsWorkerStepsAside(LocalStack stack) throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (SealstreamClient client = stack.clientBuilder("demo").requestTimeout(Duration.ofMinutes(2)).build()) {
            TeeWorker hanging = stack.startWorker("worker-hangs", LocalStack.WORKER_MEASUREMENT,
                    List.of(new HangsOn("hang-me", release, stack.engine())));
            assertThat(stack.awaitWorkersReady(Duration.ofSeconds(60))).isTrue();

            ExecutionException e = catchThrowableOfType(ExecutionException.class,
                    () -> client.embeddings().create("poison", SyntheticEngine.MODEL, List.of("hang-me")).get(60, TimeUnit.SECONDS));

            assertThat(e.getCause()).isInstanceOf(RequestRejectedException.class);
            RequestRejectedException rejected = (RequestRejectedException) e.getCause();
            assertThat(rejected.code()).isEqualTo("engine_failure");
            assertThat(rejected.detail()).contains("hung").contains("retry it once");
            assertThat(hanging.engineStalled()).isTrue();
            assertThat(status(hanging.healthUrl() + "/healthz")).as("an orchestrator restarts it").isEqualTo(503);

            // a worker whose engine answers takes the partition over; the hung request was answered,
            // so it is not run there again (a second answer would count as a duplicate)
            stack.startWorker("worker-2", LocalStack.WORKER_MEASUREMENT);
            EmbeddingResult after = client.embeddings().create("after", SyntheticEngine.MODEL, List.of("fine"))
                    .get(60, TimeUnit.SECONDS);
            assertThat(after.embeddings()).hasSize(1);
            assertThat(Eventually.holds(Duration.ofSeconds(5), () -> client.stats().duplicatesDropped() > 0))
                    .as("no second answer to the hung request").isFalse();
            assertThat(client.stats().answered()).isEqualTo(1);
            assertThat(client.stats().rejected()).isEqualTo(1);
        } finally {
            release.countDown();
        }
    }

    private static int status(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** Answers as {@code engine} does, but hangs (until released) on any batch that holds {@code text}. */
    private record HangsOn(String text, CountDownLatch release, InferenceEngine engine) implements InferenceEngine {
        @Override
        public Set<String> models() {
            return engine.models();
        }

        @Override
        public byte[] modelDigest() {
            return engine.modelDigest();
        }

        @Override
        public List<InferenceResponse> infer(List<InferenceRequest> batch) {
            if (batch.stream().anyMatch(r -> r.getTask() instanceof EmbeddingsInput in && in.getInput().contains(text))) {
                try {
                    release.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return engine.infer(batch);
        }

        @Override
        public void close() {
        }
    }
}
