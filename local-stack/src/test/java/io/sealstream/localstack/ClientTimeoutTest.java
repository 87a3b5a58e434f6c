package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.RequestTimeoutException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.worker.engine.SyntheticEngine;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Per-request timeouts, on a stack whose request topic no worker reads. */
@WithLocalStack
class ClientTimeoutTest {

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(0).partitions(1).engine(SyntheticEngine::new);
    }

    @Test
    void aRequestsOwnTimeoutFiresWhileOthersKeepWaiting(LocalStack stack) throws Exception {
        try (SealstreamClient client = stack.clientBuilder("demo").requestTimeout(Duration.ofMinutes(5)).build()) {
            CompletableFuture<EmbeddingResult> patient = client.embeddings().create("patient", SyntheticEngine.MODEL,
                    List.of("no worker reads this"));
            CompletableFuture<EmbeddingResult> hasty = client.embeddings().create("hasty", SyntheticEngine.MODEL,
                    List.of("no worker reads this either"), Duration.ofMillis(300));

            ExecutionException e = catchThrowableOfType(ExecutionException.class, hasty::get);

            assertThat(e.getCause()).isInstanceOf(RequestTimeoutException.class).hasMessageContaining("300 ms")
                    .hasMessageContaining("retry with the same request id");
            assertThat(patient).isNotDone();
            assertThat(client.stats().timedOut()).isEqualTo(1);
        }
    }
}
