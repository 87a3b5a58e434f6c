package io.sealstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class EngineBatcherTest {
    private static final Duration LINGER = Duration.ofMillis(200);
    private final List<List<String>> batches = new CopyOnWriteArrayList<>();
    /** Lets the engine of {@link #hangingBatcher} answer; counted down at the latest after each test. */
    private final CountDownLatch release = new CountDownLatch(1);
    private EngineBatcher hanging;

    @Test
    void requestsOfSeveralTasksShareOneEngineBatch() throws Exception {
        try (EngineBatcher batcher = EngineBatcher.start(this::echo, config(4, Duration.ofMinutes(1)))) {
            EngineBatcher.Lane<String> a = batcher.lane("0_0");
            EngineBatcher.Lane<String> b = batcher.lane("0_1");

            a.submit("a1", request("a1"), 1, now());
            b.submit("b1", request("b1"), 1, now());
            a.submit("a2", request("a2"), 1, now());
            b.submit("b2", request("b2"), 1, now());

            List<EngineBatcher.Done<String>> doneA = awaitDone(a, 2);
            List<EngineBatcher.Done<String>> doneB = awaitDone(b, 2);
            assertThat(batches).containsExactly(List.of("a1", "b1", "a2", "b2"));
            assertThat(doneA).extracting(EngineBatcher.Done::tag).containsExactly("a1", "a2");
            assertThat(doneB).extracting(EngineBatcher.Done::tag).containsExactly("b1", "b2");
            assertThat(doneA).allSatisfy(d -> assertThat(text(d.result().response())).isEqualTo(d.tag()));
        }
    }

    @Test
    void aPartialBatchRunsOnceItsOldestRequestHasWaitedTheLinger() throws Exception {
        EngineBatcher batcher = EngineBatcher.inline(this::echo, config(4, LINGER));
        EngineBatcher.Lane<String> lane = batcher.lane("0_0");
        lane.submit("r1", request("r1"), 1, 1_000);
        lane.submit("r2", request("r2"), 1, 1_100);

        batcher.runDue(1_000 + LINGER.toMillis() - 1);
        assertThat(batches).isEmpty();
        batcher.runDue(1_000 + LINGER.toMillis());

        assertThat(batches).containsExactly(List.of("r1", "r2"));
        assertThat(lane.takeDone()).extracting(EngineBatcher.Done::tag).containsExactly("r1", "r2");
    }

    @Test
    void aBatchStopsAtItsCostAndTheNextStartsWithTheRequestThatDidNotFit() throws Exception {
        EngineBatcher batcher = EngineBatcher.inline(this::echo, StreamProcessorConfig.builder()
                .bootstrapServers("unused:9092").stateDir(Path.of("unused")).maxBatchSize(10).maxBatchCost(5)
                .batchLinger(LINGER).build());
        EngineBatcher.Lane<String> lane = batcher.lane("0_0");
        lane.submit("r1", request("r1"), 2, 0);
        lane.submit("r2", request("r2"), 2, 0);
        lane.submit("r3", request("r3"), 2, 0);

        batcher.runDue(0);

        assertThat(batches).containsExactly(List.of("r1", "r2"));
        batcher.runDue(LINGER.toMillis());
        assertThat(batches).containsExactly(List.of("r1", "r2"), List.of("r3"));
    }

    @Test
    void aClosedLanesQueuedRequestsAreDroppedAndItGetsNoResults() throws Exception {
        EngineBatcher batcher = EngineBatcher.inline(this::echo, config(4, LINGER));
        EngineBatcher.Lane<String> moved = batcher.lane("0_0");
        EngineBatcher.Lane<String> kept = batcher.lane("0_1");
        moved.submit("m1", request("m1"), 1, 0);
        kept.submit("k1", request("k1"), 1, 0);

        moved.close();
        batcher.runDue(LINGER.toMillis());

        assertThat(batches).containsExactly(List.of("k1"));
        assertThat(moved.takeDone()).isEmpty();
        assertThat(moved.submit("m2", request("m2"), 1, 0)).as("a closed lane takes nothing").isFalse();
        assertThat(kept.takeDone()).extracting(EngineBatcher.Done::tag).containsExactly("k1");
    }

    @Test
    void aFailingBatchIsRetriedOneByOneSoOnlyTheFailingRequestGetsAFailure() throws Exception {
        BatchHandler failsOnPoison = failingOn("poison", new IllegalStateException("the engine failed"));
        EngineBatcher batcher = EngineBatcher.inline(failsOnPoison, config(3, LINGER));
        EngineBatcher.Lane<String> lane = batcher.lane("0_0");
        for (String t : List.of("ok1", "poison", "ok2")) {
            lane.submit(t, request(t), 1, 0);
        }

        batcher.runDue(0);

        List<EngineBatcher.Done<String>> done = lane.takeDone();
        assertThat(done).extracting(d -> d.tag() + ":" + (d.result().response() == null ? d.result().failure() : "ok"))
                .containsExactly("ok1:ok", "poison:IllegalStateException", "ok2:ok");
    }

    @Test
    void anErrorFromTheEngineBecomesFailuresAndTheBatcherKeepsServing() throws Exception {
        BatchHandler throwsErrorOnce = failingOn("fatal", new AssertionError("an Error, not an Exception"));
        try (EngineBatcher batcher = EngineBatcher.start(throwsErrorOnce, config(1, Duration.ofMillis(1)))) {
            EngineBatcher.Lane<String> lane = batcher.lane("0_0");
            lane.submit("fatal", request("fatal"), 1, now());
            lane.submit("next", request("next"), 1, now());

            List<EngineBatcher.Done<String>> done = awaitDone(lane, 2);

            assertThat(done).extracting(d -> d.tag() + ":" + (d.result().response() == null ? d.result().failure() : "ok"))
                    .containsExactly("fatal:AssertionError", "next:ok");
        }
    }

    @Test
    void submittingBlocksWhileTwoBatchesWaitForTheEngineAndResumesWhenItTakesOne() throws Exception {
        try (EngineBatcher batcher = EngineBatcher.start(hangsUntilReleased(), config(2, Duration.ofMillis(1)))) {
            EngineBatcher.Lane<String> lane = batcher.lane("0_0");
            lane.submit("running-1", request("running-1"), 1, now());
            lane.submit("running-2", request("running-2"), 1, now());
            awaitBatches(1); // the engine holds the first batch
            for (int i = 0; i < 2 * 2; i++) {
                lane.submit("queued-" + i, request("queued-" + i), 1, now());
            }
            AtomicBoolean submitted = new AtomicBoolean();
            Thread blocked = new Thread(() -> {
                try {
                    submitted.set(lane.submit("blocked", request("blocked"), 1, now()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            blocked.start();
            awaitState(blocked, Thread.State.TIMED_WAITING);
            assertThat(submitted).isFalse();

            release.countDown();
            blocked.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(submitted).isTrue();
            assertThat(awaitDone(lane, 7)).hasSize(7);
        }
    }

    @Test
    void closingTheBatcherReleasesABlockedSubmitterWithoutQueueingItsRequest() throws Exception {
        EngineBatcher batcher = EngineBatcher.start(hangsUntilReleased(), config(1, Duration.ofMillis(1)));
        EngineBatcher.Lane<String> lane = batcher.lane("0_0");
        lane.submit("running", request("running"), 1, now());
        awaitBatches(1);
        lane.submit("q1", request("q1"), 1, now());
        lane.submit("q2", request("q2"), 1, now());
        AtomicBoolean submitted = new AtomicBoolean(true);
        Thread blocked = new Thread(() -> {
            try {
                submitted.set(lane.submit("blocked", request("blocked"), 1, now()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        blocked.start();
        awaitState(blocked, Thread.State.TIMED_WAITING);

        Thread closer = new Thread(batcher::close);
        closer.start();
        blocked.join(TimeUnit.SECONDS.toMillis(30));
        release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(30));

        assertThat(submitted).as("the request stays buffered for the task's next owner").isFalse();
        assertThat(batches).containsExactly(List.of("running"));
    }

    @Test
    @Timeout(60)
    void aSubmitterWaitsForRoomAtMostHalfTheTransactionTimeoutAndTheRequestStaysBuffered() throws Exception {
        EngineBatcher batcher = hangingBatcher(Duration.ofSeconds(2));
        EngineBatcher.Lane<String> lane = fillBehindARunningBatch(batcher);

        boolean submitted = lane.submit("blocked", request("blocked"), 1, now());

        assertThat(submitted).as("the stream thread's transaction must still commit").isFalse();
        assertThat(batcher.stalled()).as("a batch of a few seconds is slow, not hung").isFalse();
    }

    @Test
    @Timeout(60)
    void anEngineThatRunsOneBatchForTwiceTheTransactionTimeoutCountsAsStalledUntilItAnswers() throws Exception {
        EngineBatcher batcher = hangingBatcher(Duration.ofSeconds(1));
        EngineBatcher.Lane<String> lane = fillBehindARunningBatch(batcher);
        assertThat(batcher.stalled()).as("a batch that just started").isFalse();

        awaitStalled(batcher);

        assertThat(batcher.runningBatchAge()).isGreaterThan(Duration.ofSeconds(2));
        assertThat(lane.submit("later", request("later"), 1, now())).as("refused at once while stalled").isFalse();
        release.countDown();
        assertThat(awaitDone(lane, 3)).extracting(EngineBatcher.Done::tag).containsExactly("hangs", "q1", "q2");
        assertThat(batcher.stalled()).as("the engine answered again").isFalse();
    }

    @Test
    @Timeout(60)
    void anAbandonedBatchFailsItsRequestsOnceAndTheEnginesLateResultIsDropped() throws Exception {
        EngineBatcher batcher = hangingBatcher(Duration.ofSeconds(1));
        EngineBatcher.Lane<String> lane = fillBehindARunningBatch(batcher);
        awaitStalled(batcher);

        assertThat(batcher.abandonRunningBatch()).as("the hung batch holds one request").isEqualTo(1);
        assertThat(batcher.abandonRunningBatch()).as("abandoned once only").isZero();
        assertThat(batcher.awaitAbandonedFailuresTaken(Duration.ZERO)).as("its task has not taken the failure yet").isFalse();
        List<EngineBatcher.Done<String>> failed = awaitDone(lane, 1);
        assertThat(failed).extracting(EngineBatcher.Done::tag).containsExactly("hangs");
        assertThat(failed.get(0).result().engineStalled()).isTrue();
        assertThat(batcher.awaitAbandonedFailuresTaken(Duration.ZERO)).isTrue();

        release.countDown();
        assertThat(awaitDone(lane, 2)).as("the queued requests run; the hung one is not answered twice")
                .extracting(EngineBatcher.Done::tag).containsExactly("q1", "q2");
    }

    @Test
    @Timeout(60)
    void aBatchThatHasNotStalledIsNotAbandonedEvenIfAskedTo() throws Exception {
        EngineBatcher batcher = hangingBatcher(Duration.ofMinutes(1));
        EngineBatcher.Lane<String> lane = fillBehindARunningBatch(batcher);

        // a watchdog that saw the previous batch stall and asks only now, when this one runs
        assertThat(batcher.abandonRunningBatch()).isZero();

        release.countDown();
        assertThat(awaitDone(lane, 3)).extracting(d -> d.result().engineStalled()).containsOnly(false);
    }

    @Test
    @Timeout(60)
    void aClosedLaneCountsItsAbandonedFailuresAsTakenSoTheWorkerNeedNotWaitForThem() throws Exception {
        EngineBatcher batcher = hangingBatcher(Duration.ofSeconds(1));
        EngineBatcher.Lane<String> lane = fillBehindARunningBatch(batcher);
        awaitStalled(batcher);
        batcher.abandonRunningBatch();

        lane.close();

        assertThat(batcher.awaitAbandonedFailuresTaken(Duration.ZERO)).isTrue();
    }

    @Test
    void aRunningBatchIsExpectedToTakeAsLongPerUnitOfCostAsTheFastestRecentBatch() throws Exception {
        hanging = EngineBatcher.start(batch -> {
            seen(batch);
            if (text(batch.get(0)).equals("slow")) {
                Thread.sleep(400);
            } else if (text(batch.get(0)).equals("hangs")) {
                release.await(60, TimeUnit.SECONDS);
            }
            return reply(batch);
        }, config(1, Duration.ofMillis(1)));
        EngineBatcher.Lane<String> lane = hanging.lane("0_0");
        assertThat(hanging.fastestNanosPerUnit()).as("no batch ran yet").isZero();

        lane.submit("slow", request("slow"), 4, now());
        assertThat(awaitDone(lane, 1)).hasSize(1);
        assertThat(hanging.fastestNanosPerUnit()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        lane.submit("hangs", request("hangs"), 40, now());
        awaitBatches(2);

        // 40 units at no less than 100 ms each: nothing of this batch can be done for seconds
        assertThat(hanging.runningBatchExpectedRemaining()).isGreaterThan(Duration.ofSeconds(1));
        release.countDown();
        assertThat(awaitDone(lane, 1)).hasSize(1);
        assertThat(hanging.runningBatchExpectedRemaining()).as("no batch runs").isZero();
    }

    @Test
    void oneFastBatchLowersTheExpectationAtOnce() throws Exception {
        try (EngineBatcher batcher = EngineBatcher.start(batch -> {
            seen(batch);
            if (text(batch.get(0)).equals("slow")) {
                Thread.sleep(200);
            }
            return reply(batch);
        }, config(1, Duration.ofMillis(1)))) {
            EngineBatcher.Lane<String> lane = batcher.lane("0_0");
            lane.submit("slow", request("slow"), 1, now());
            assertThat(awaitDone(lane, 1)).hasSize(1);
            long slow = batcher.fastestNanosPerUnit();

            lane.submit("fast", request("fast"), 1, now());
            assertThat(awaitDone(lane, 1)).hasSize(1);

            assertThat(slow).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
            assertThat(batcher.fastestNanosPerUnit()).isLessThan(slow);
        }
    }

    @Test
    void aBatchThatFailsFastDoesNotLowerTheExpectation() throws Exception {
        BatchHandler slowOrFailing = batch -> {
            if (text(batch.get(0)).equals("slow")) {
                Thread.sleep(200);
                return echo(batch);
            }
            throw new IllegalStateException("refused");
        };
        try (EngineBatcher batcher = EngineBatcher.start(slowOrFailing, config(1, Duration.ofMillis(1)))) {
            EngineBatcher.Lane<String> lane = batcher.lane("0_0");
            lane.submit("slow", request("slow"), 1, now());
            assertThat(awaitDone(lane, 1)).hasSize(1);
            long slow = batcher.fastestNanosPerUnit();

            lane.submit("fails", request("fails"), 1, now());
            assertThat(awaitDone(lane, 1)).singleElement().satisfies(d -> assertThat(d.result().failure()).isNotNull());

            // a tenant's requests that fail at once must not switch the estimate off for everyone
            assertThat(batcher.fastestNanosPerUnit()).isEqualTo(slow);
        }
    }

    /** An echoing engine that throws {@code failure} on every batch that holds {@code text}. */
    private BatchHandler failingOn(String text, Throwable failure) {
        return batch -> {
            if (batch.stream().anyMatch(r -> text(r).equals(text))) {
                if (failure instanceof Error error) {
                    throw error;
                }
                throw (Exception) failure;
            }
            return echo(batch);
        };
    }

    /** A batcher whose engine hangs on every batch until {@link #release} (or the test's end). */
    private EngineBatcher hangingBatcher(Duration transactionTimeout) {
        hanging = EngineBatcher.start(hangsUntilReleased(), transactionTimeout(transactionTimeout));
        return hanging;
    }

    @AfterEach
    void releaseTheHangingEngine() {
        release.countDown();
        if (hanging != null) {
            hanging.close();
        }
    }

    private BatchHandler hangsUntilReleased() {
        return batch -> {
            seen(batch);
            release.await(60, TimeUnit.SECONDS);
            return reply(batch);
        };
    }

    /** A lane whose first request the engine is running and two more wait: the queue is full. */
    private EngineBatcher.Lane<String> fillBehindARunningBatch(EngineBatcher batcher) throws InterruptedException {
        EngineBatcher.Lane<String> lane = batcher.lane("0_0");
        lane.submit("hangs", request("hangs"), 1, now());
        awaitBatches(1);
        lane.submit("q1", request("q1"), 1, now());
        lane.submit("q2", request("q2"), 1, now());
        return lane;
    }

    private static StreamProcessorConfig transactionTimeout(Duration timeout) {
        return StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(Path.of("unused"))
                .maxBatchSize(1).batchLinger(Duration.ofMillis(1)).transactionTimeout(timeout).build();
    }

    private static StreamProcessorConfig config(int maxBatchSize, Duration linger) {
        return StreamProcessorConfig.builder().bootstrapServers("unused:9092").stateDir(Path.of("unused"))
                .maxBatchSize(maxBatchSize).batchLinger(linger).build();
    }

    private static long now() {
        return System.currentTimeMillis();
    }

    private static InferenceRequest request(String text) {
        return new InferenceRequest("test-model", new EmbeddingsInput(List.of(text)));
    }

    private static String text(InferenceRequest r) {
        return ((EmbeddingsInput) r.getTask()).getInput().get(0);
    }

    /** The "embedding" carries the text back as its model name, so a test can see which answer is whose. */
    private static String text(InferenceResponse r) {
        return r.getModel();
    }

    private List<InferenceResponse> echo(List<InferenceRequest> batch) {
        seen(batch);
        return reply(batch);
    }

    private void seen(List<InferenceRequest> batch) {
        batches.add(batch.stream().map(EngineBatcherTest::text).toList());
    }

    private static List<InferenceResponse> reply(List<InferenceRequest> batch) {
        List<InferenceResponse> out = new ArrayList<>();
        for (InferenceRequest r : batch) {
            out.add(InferenceResponse.newBuilder().setModel(text(r)).setError(null)
                    .setOutput(new EmbeddingsResult(List.of(new Embedding(0, List.of(1f))), new Usage(1, 0, 1))).build());
        }
        return out;
    }

    private static <T> List<EngineBatcher.Done<T>> awaitDone(EngineBatcher.Lane<T> lane, int n) throws InterruptedException {
        List<EngineBatcher.Done<T>> done = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (done.size() < n && System.nanoTime() < deadline) {
            done.addAll(lane.takeDone());
            Thread.sleep(1);
        }
        return done;
    }

    private static void awaitStalled(EngineBatcher batcher) throws InterruptedException {
        while (!batcher.stalled()) {
            Thread.sleep(10);
        }
    }

    private void awaitBatches(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (batches.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(batches).hasSizeGreaterThanOrEqualTo(n);
    }

    private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (t.getState() != state && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(t.getState()).isEqualTo(state);
    }
}
