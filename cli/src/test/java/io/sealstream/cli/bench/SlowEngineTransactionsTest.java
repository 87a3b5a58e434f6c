package io.sealstream.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A worker that waits for a long engine batch writes no transaction per commit interval while it
 * waits: each would cost the broker CPU that the engine, on the same machine, could have used.
 */
@WithLocalStack
class SlowEngineTransactionsTest {
    private static final Duration BATCH = Duration.ofSeconds(3);

    private static final FixedLatencyEngine ENGINE = new FixedLatencyEngine(BATCH);

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(1).partitions(1).engine(() -> ENGINE);
    }

    @Test
    void aWorkerWaitingForALongBatchCommitsAFewTransactionsNotOnePerCommitInterval(LocalStack stack) throws Exception {
        String model = ENGINE.models().iterator().next();
        try (SealstreamClient client = stack.client("demo")) {
            // the first batch teaches the worker how long a batch takes
            client.embeddings().create("first", model, List.of("one")).get(60, TimeUnit.SECONDS);

            BrokerRequests before = BrokerRequests.read();
            client.embeddings().create("second", model, List.of("two")).get(60, TimeUnit.SECONDS);
            long transactions = BrokerRequests.read().transactionsSince(before);

            // the worker used to commit every 40 ms or so while it waited (75 times in 3 s); now it
            // looks at most every 200 ms (15 times), plus the commits of the request's arrival,
            // its linger and its answer
            assertThat(transactions).as("transactions while one request waited %s for the engine", BATCH)
                    .isPositive().isLessThanOrEqualTo(30);
        }
    }
}
