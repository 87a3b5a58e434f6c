package io.sealstream.streams;

import io.sealstream.metrics.Meters;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's engine batches, formed from the opened requests of every stream task the worker
 * runs: a worker that owns more partitions fills its batches faster instead of making smaller
 * ones, and the engine works on one batch while the stream threads open, answer and commit
 * around it.
 *
 * <p>Each task has a {@link Lane}. A task submits opened requests to its lane; the batcher takes
 * them in arrival order into a batch once {@code max-batch-size} requests or {@code max-batch-cost}
 * units wait, or the oldest has waited {@code batch-linger}; runs the {@link BatchHandler}; and
 * puts each result back on its lane, where the task's stream thread takes it to seal, send and
 * commit. Nothing here touches Kafka: a request stays in its task's changelogged buffer until
 * its answer commits, so a crash, a rebalance or a closed lane loses no request (the task's next
 * owner submits it again) and answers none twice (only the task that holds the buffer answers).
 *
 * <p>Two ways to run: {@link #start} runs batches on the batcher's own thread (workers);
 * {@link #inline} runs them on the stream thread that calls {@link #runDue} (topology tests, where
 * the test driver's clock decides when the linger has passed).
 */
public final class EngineBatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EngineBatcher.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Batches' worth of requests that may wait for the engine before submitting blocks. */
    static final int QUEUED_BATCHES = 2;
    /** How often a submitter blocked by back-pressure looks whether the engine stalled. */
    private static final long STALL_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final BatchHandler handler;
    private final int maxBatchSize;
    private final long maxBatchCost;
    private final long lingerMillis;
    private final boolean inline;
    private final StreamMeters meters;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final Condition room = lock.newCondition();
    private final Condition abandonedTaken = lock.newCondition();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private long queuedCost;
    private boolean closed;
    private final Thread thread;
    /**
     * When the engine started the batch it runs now ({@link System#nanoTime}), or 0 while it runs
     * none; written under {@link #lock} together with {@link #running}, read by anyone.
     */
    private volatile long batchStartedNanos;
    private final long stallAfterNanos;
    private final long submitWaitNanos;
    /** The batch the engine runs now, or null; guarded by {@link #lock}. */
    private List<Job> running;
    /** Whether the running batch's requests were already given {@link #STALLED} failures; guarded by {@link #lock}. */
    private boolean runningAbandoned;
    /** Failures of an abandoned batch that no task has taken yet (nor dropped by closing its lane); guarded by {@link #lock}. */
    private int abandonedUntaken;
    /** Written only by the thread that runs batches, read by anyone. */
    private volatile Totals totals = new Totals(0, 0, 0);
    /** The cost of the batch the engine runs now; guarded by {@link #lock}, written with {@link #running}. */
    private long runningCost;
    /** How many recent batches {@link #fastestNanosPerUnit} looks back on. */
    static final int RECENT_BATCHES = 16;
    /** Time per unit of cost of the recent batches; written only by the thread that runs batches. */
    private final long[] recentNanosPerUnit = new long[RECENT_BATCHES];
    private int recentBatches;
    private int nextRecent;
    /** The least of {@link #recentNanosPerUnit}, or 0 before the first batch; read by anyone. */
    private volatile long fastestNanosPerUnit;

    private EngineBatcher(BatchHandler handler, StreamProcessorConfig config, Meters meters, boolean inline) {
        this.handler = Objects.requireNonNull(handler, "handler");
        this.maxBatchSize = config.maxBatchSize();
        this.maxBatchCost = config.maxBatchCost();
        this.lingerMillis = config.batchLinger().toMillis();
        this.inline = inline;
        this.meters = new StreamMeters(meters);
        // answers join whatever transaction is open when they come back, so a long batch holds no
        // transaction open; a stream thread blocked in submit does, so its wait is what is bounded
        this.submitWaitNanos = config.transactionTimeout().toNanos() / 2;
        this.stallAfterNanos = config.transactionTimeout().toNanos() * 2;
        if (inline) {
            this.thread = null;
        } else {
            this.thread = new Thread(this::run, "sealstream-inference-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** A batcher that runs batches on its own thread, for a worker's stream processor. */
    public static EngineBatcher start(BatchHandler handler, StreamProcessorConfig config) {
        return start(handler, config, Meters.none());
    }

    /** As {@link #start(BatchHandler, StreamProcessorConfig)}, recording batches and requests in {@code meters}. */
    public static EngineBatcher start(BatchHandler handler, StreamProcessorConfig config, Meters meters) {
        return new EngineBatcher(handler, config, meters, false);
    }

    /** A batcher that runs due batches on the thread that calls {@link #runDue}: for topology tests. */
    static EngineBatcher inline(BatchHandler handler, StreamProcessorConfig config) {
        return new EngineBatcher(handler, config, Meters.none(), true);
    }

    /** The handler's cost of a request, at least one; one if it throws. */
    long costOf(InferenceRequest request) {
        try {
            return Math.max(1, handler.cost(request));
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /** The handler's bound of a request's plaintext answer in bytes, or 0 if it cannot tell (or throws). */
    long maxAnswerBytes(InferenceRequest request) {
        try {
            return handler.maxAnswerBytes(request);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The meters of this worker's requests and batches, which its stream tasks record into too. */
    StreamMeters meters() {
        return meters;
    }

    /** Opens a lane for one stream task. */
    <T> Lane<T> lane(String task) {
        return new Lane<>(task);
    }

    /** An inference result, or why the engine gave none (an exception's class name, never its message). */
    record Result(InferenceResponse response, String failure) {
        /** Whether this is the failure of a request whose batch was {@linkplain #abandonRunningBatch abandoned}. */
        boolean engineStalled() {
            return this == STALLED;
        }
    }

    /** The failure a request of an abandoned batch gets; told apart by identity, not by its text. */
    private static final Result STALLED = new Result(null, "EngineStalled");

    /** A result on its way back to the task that submitted it. */
    record Done<T>(T tag, Result result) {
    }

    private record Job(Lane<?> lane, Object tag, InferenceRequest request, long cost, long enqueuedAt, TokenSink sink) {
    }

    /**
     * One stream task's way in and out of the batcher. Submitting and closing happen on the
     * task's stream thread; results arrive from the batcher's thread.
     */
    final class Lane<T> {
        private final String task;
        private final ConcurrentLinkedQueue<Done<T>> done = new ConcurrentLinkedQueue<>();
        private volatile boolean open = true;

        private Lane(String task) {
            this.task = task;
        }

        /**
         * Queues {@code request} (of {@code cost}) for a batch; {@code tag} comes back with its
         * result. Blocks while {@value #QUEUED_BATCHES} batches' worth of requests wait already
         * (back-pressure on the stream thread, which then takes no new records), at most half the
         * transaction timeout (the thread's open transaction must still commit) and only until the
         * batcher closes or the engine {@linkplain #stalled() stalls}. False if it waited that long,
         * the lane or the batcher is closed, or the engine stalled: the request stays buffered and
         * is submitted again later, or by the task's next owner.
         */
        boolean submit(T tag, InferenceRequest request, long cost, long nowMillis) throws InterruptedException {
            return submit(tag, request, cost, nowMillis, TokenSink.NONE);
        }

        /** As {@link #submit(Object, InferenceRequest, long, long)}, the answer's text going to {@code sink} as it is generated. */
        boolean submit(T tag, InferenceRequest request, long cost, long nowMillis, TokenSink sink)
                throws InterruptedException {
            long deadline = System.nanoTime() + submitWaitNanos;
            lock.lock();
            try {
                while (!inline && !closed && open && !stalled() && (queue.size() >= QUEUED_BATCHES * maxBatchSize
                        || queuedCost >= QUEUED_BATCHES * maxBatchCost)) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false; // the stream thread's open transaction must commit in time
                    }
                    room.awaitNanos(Math.min(left, STALL_CHECK_NANOS));
                }
                if (closed || !open || stalled()) {
                    return false;
                }
                queue.add(new Job(this, tag, request, cost, nowMillis, sink));
                queuedCost += cost;
                arrived.signal();
                return true;
            } finally {
                lock.unlock();
            }
        }

        /** Whether results wait to be taken. */
        boolean hasDone() {
            return !done.isEmpty();
        }

        /** The results that arrived since the last call, in the order their batches ran. */
        List<Done<T>> takeDone() {
            List<Done<T>> out = new ArrayList<>();
            for (Done<T> d; (d = done.poll()) != null; ) {
                out.add(d);
                if (d.result().engineStalled()) {
                    abandonedFailureTaken();
                }
            }
            return out;
        }

        /** The task was closed or moved: drops its queued requests and any result still to come. */
        void close() {
            lock.lock();
            try {
                open = false;
                for (Iterator<Job> it = queue.iterator(); it.hasNext(); ) {
                    Job job = it.next();
                    if (job.lane() == this) {
                        it.remove();
                        queuedCost -= job.cost();
                    }
                }
                room.signalAll();
            } finally {
                lock.unlock();
            }
            for (Done<T> d; (d = done.poll()) != null; ) {
                if (d.result().engineStalled()) {
                    abandonedFailureTaken(); // the task's next owner answers it
                }
            }
        }

        @SuppressWarnings("unchecked")
        private boolean complete(Object tag, Result result) {
            if (open) {
                done.add(new Done<>((T) tag, result));
                return true;
            }
            return false;
        }

        @Override
        public String toString() {
            return "Lane[" + task + "]";
        }
    }

    /**
     * Inline batchers: runs every batch that is due at {@code nowMillis} (full, or its oldest
     * request older than the linger) on this thread. Threaded batchers: does nothing.
     */
    void runDue(long nowMillis) {
        if (!inline) {
            return;
        }
        List<Job> batch;
        while (!(batch = takeBatch(nowMillis)).isEmpty()) {
            runBatch(batch);
        }
    }

    private void run() {
        while (true) {
            List<Job> batch;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        return;
                    }
                    long now = System.currentTimeMillis();
                    batch = takeBatch(now);
                    if (!batch.isEmpty()) {
                        break;
                    }
                    if (queue.isEmpty()) {
                        arrived.await();
                    } else {
                        arrived.await(Math.max(1, queue.peek().enqueuedAt() + lingerMillis - now), TimeUnit.MILLISECONDS);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            runBatch(batch);
        }
    }

    /** The next batch if one is due at {@code now}, taken off the queue; empty otherwise. */
    private List<Job> takeBatch(long now) {
        lock.lock();
        try {
            if (queue.isEmpty() || closed) {
                return List.of();
            }
            boolean due = queue.size() >= maxBatchSize || queuedCost >= maxBatchCost
                    || now - queue.peek().enqueuedAt() >= lingerMillis;
            if (!due) {
                return List.of();
            }
            List<Job> batch = new ArrayList<>();
            long cost = 0;
            while (!queue.isEmpty() && batch.size() < maxBatchSize
                    && (batch.isEmpty() || cost + queue.peek().cost() <= maxBatchCost)) {
                Job job = queue.poll();
                queuedCost -= job.cost();
                cost += job.cost();
                batch.add(job);
            }
            room.signalAll();
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private void runBatch(List<Job> batch) {
        long started = System.nanoTime();
        long cost = batch.stream().mapToLong(Job::cost).sum();
        recordStart(batch, inline ? -1 : System.currentTimeMillis());
        lock.lock();
        try {
            running = batch;
            runningAbandoned = false;
            runningCost = cost;
            batchStartedNanos = started == 0 ? 1 : started;
        } finally {
            lock.unlock();
        }
        List<Result> results;
        boolean abandoned;
        try {
            results = infer(batch.stream().map(Job::request).toList(), batch.stream().map(Job::sink).toList());
        } finally {
            lock.lock();
            try {
                abandoned = runningAbandoned;
                running = null;
                batchStartedNanos = 0;
            } finally {
                lock.unlock();
            }
        }
        long took = System.nanoTime() - started;
        meters.inference.record(took, TimeUnit.NANOSECONDS);
        Totals before = totals;
        totals = new Totals(before.batches() + 1, before.requests() + batch.size(), before.busyNanos() + took);
        if (results.stream().allMatch(r -> r.failure() == null && r.response().getError() == null)) {
            // a failed or refused batch ends early and says nothing about how long work takes
            remember(took / Math.max(1, cost));
        }
        if (abandoned) {
            // its requests were answered as failed while the engine hung: a late result is not sent twice
            LOG.warn("batch.late_result_dropped size={} ms={}", batch.size(), (System.nanoTime() - started) / 1_000_000);
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).lane().complete(batch.get(i).tag(), results.get(i));
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("batch.inferred size={} cost={} ms={}", batch.size(), cost,
                    (System.nanoTime() - started) / 1_000_000);
        }
    }

    /**
     * The batch's size, linger and each request's wait, on the wall clock the stream threads
     * stamped arrivals with ({@code nowMillis}); not for an inline batcher, whose arrivals carry a
     * test driver's clock.
     */
    private void recordStart(List<Job> batch, long nowMillis) {
        meters.batchSize.record(batch.size());
        if (nowMillis < 0) {
            return;
        }
        long oldest = Long.MAX_VALUE;
        for (Job job : batch) {
            StreamMeters.record(meters.queueWait, TimeUnit.MILLISECONDS.toNanos(nowMillis - job.enqueuedAt()));
            oldest = Math.min(oldest, job.enqueuedAt());
        }
        // the linger's share of the oldest request's wait; beyond it, the engine was busy with earlier batches
        StreamMeters.record(meters.linger, TimeUnit.MILLISECONDS.toNanos(Math.min(nowMillis - oldest, lingerMillis)));
    }

    /**
     * Runs the batch; if the handler fails, runs each request alone so only the failing ones get
     * errors. Nothing escapes, Errors included: a dead batcher thread would leave every partition
     * of the worker waiting with no error to show.
     */
    private List<Result> infer(List<InferenceRequest> requests, List<TokenSink> sinks) {
        try {
            List<InferenceResponse> results = handler.handle(requests, sinks);
            if (results == null || results.size() != requests.size()) {
                throw new IllegalStateException("the batch handler returned "
                        + (results == null ? "null" : results.size() + " results") + " for " + requests.size() + " requests");
            }
            sinks.forEach(TokenSink::end);
            return results.stream().map(r -> new Result(r, r == null ? "NullResult" : null)).toList();
        } catch (Throwable e) {
            LOG.warn("batch.handler.failed size={} error={} retrying=one_by_one", requests.size(), e.getClass().getSimpleName());
        }
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < requests.size(); i++) {
            TokenSink sink = sinks.get(i);
            try {
                sink.restart(); // the text streamed so far came from the failed batch
                List<InferenceResponse> one = handler.handle(List.of(requests.get(i)), List.of(sink));
                if (one == null || one.size() != 1 || one.get(0) == null) {
                    throw new IllegalStateException("the batch handler returned no single result");
                }
                results.add(new Result(one.get(0), null));
            } catch (Throwable e) {
                results.add(new Result(null, e.getClass().getSimpleName()));
            } finally {
                sink.end();
            }
        }
        return results;
    }

    /**
     * What the engine did since the batcher started: batches, requests in them, and the time it
     * spent running them. Differences of two readings give the mean batch size and the share of
     * time the engine was busy, the two figures that tell a starved engine from a slow one.
     */
    public record Totals(long batches, long requests, long busyNanos) {
        /** What happened between {@code earlier} and this reading. */
        public Totals since(Totals earlier) {
            return new Totals(batches - earlier.batches, requests - earlier.requests, busyNanos - earlier.busyNanos);
        }

        /** These and {@code other} together: the totals of two batchers. */
        public Totals plus(Totals other) {
            return new Totals(batches + other.batches, requests + other.requests, busyNanos + other.busyNanos);
        }
    }

    /** The totals so far. */
    public Totals totals() {
        return totals;
    }

    /**
     * Gives each request of the batch the engine is running a {@link #STALLED} failure, so that
     * its task answers it with an error instead of leaving it buffered for the next worker: a
     * request that hangs the engine would otherwise hang every worker in turn. The engine's late
     * result, if it ever comes, is dropped. For a worker whose engine {@linkplain #stalled() stalled},
     * before it leaves its group.
     *
     * @return how many requests were failed: zero if no batch runs, the one that runs has not
     *     stalled, it was abandoned already, or its tasks' lanes are all closed
     */
    public int abandonRunningBatch() {
        lock.lock();
        try {
            // only a batch that is itself stalled: the hung one may have finished since the caller
            // looked, and the engine may be running the next, healthy batch
            if (running == null || runningAbandoned || !stalled()) {
                return 0;
            }
            runningAbandoned = true;
            int failed = 0;
            for (Job job : running) {
                if (job.lane().complete(job.tag(), STALLED)) {
                    failed++;
                }
            }
            abandonedUntaken += failed;
            return failed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every failure of an abandoned batch was taken by its task (or dropped with its
     * lane), at most {@code timeout}.
     *
     * @return whether they were all taken
     */
    public boolean awaitAbandonedFailuresTaken(Duration timeout) throws InterruptedException {
        long left = timeout.toNanos();
        lock.lock();
        try {
            while (abandonedUntaken > 0) {
                if (left <= 0) {
                    return false;
                }
                left = abandonedTaken.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void abandonedFailureTaken() {
        lock.lock();
        try {
            if (--abandonedUntaken == 0) {
                abandonedTaken.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void remember(long nanosPerUnit) {
        recentNanosPerUnit[nextRecent] = nanosPerUnit;
        nextRecent = (nextRecent + 1) % RECENT_BATCHES;
        recentBatches = Math.min(recentBatches + 1, RECENT_BATCHES);
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < recentBatches; i++) {
            fastest = Math.min(fastest, recentNanosPerUnit[i]);
        }
        fastestNanosPerUnit = Math.max(1, fastest);
    }

    /** The least time per unit of cost among the last {@value #RECENT_BATCHES} batches; 0 before the first. */
    long fastestNanosPerUnit() {
        return fastestNanosPerUnit;
    }

    /**
     * How long the batch the engine runs now is expected still to take, at the pace of the
     * fastest of the recent successful batches per unit of cost; zero while no batch runs or
     * before one succeeded. An estimate, not a bound: a batch can end sooner when its cost
     * overstates its work (a completion that stops long before its token limit) or when larger
     * batches run faster per unit (parallel slots), and abandoning a batch delivers its failures
     * while it still runs.
     */
    public Duration runningBatchExpectedRemaining() {
        long perUnit = fastestNanosPerUnit;
        long end;
        lock.lock();
        try {
            // start and cost of one batch: the next one may start any moment
            if (running == null || perUnit == 0) {
                return Duration.ZERO;
            }
            // saturates instead of overflowing: a caller caps the wait far below this anyway
            end = batchStartedNanos + (long) Math.min((double) perUnit * runningCost, 1e15);
        } finally {
            lock.unlock();
        }
        long left = end - System.nanoTime();
        return left > 0 ? Duration.ofNanos(left) : Duration.ZERO;
    }

    /** How long the engine has run its current batch; zero while it runs none. */
    public Duration runningBatchAge() {
        long started = batchStartedNanos;
        return started == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - started);
    }

    /**
     * Whether the engine has run one batch for more than twice the transaction timeout (10 min by
     * default; raise the transaction timeout for an engine whose largest batch takes longer), so the engine is taken to
     * hang: submitting refuses at once (the requests stay buffered), and the worker leaves its
     * group so that its partitions move to workers whose engine answers.
     */
    public boolean stalled() {
        long started = batchStartedNanos;
        return started != 0 && System.nanoTime() - started > stallAfterNanos;
    }

    /**
     * Stops taking batches. A batch the engine is running may finish first, until it would count
     * as {@linkplain #stalled() stalled}; a hung engine's thread is left behind (it is a daemon).
     *
     * @return whether the batcher's thread has ended, so that no batch is inside the engine
     */
    public boolean closeAndJoin() {
        return closeAndJoin(Duration.ofNanos(Long.MAX_VALUE));
    }

    /**
     * As {@link #closeAndJoin()}, waiting at most {@code maxWait} for a running batch: a process
     * that is shutting down cannot deliver its answers anyway (they are replayed elsewhere).
     */
    public boolean closeAndJoin(Duration maxWait) {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
            room.signalAll();
        } finally {
            lock.unlock();
        }
        if (thread != null && Thread.currentThread() != thread) {
            long waitMillis = Math.max(1, Math.min(maxWait.toMillis(),
                    (stallAfterNanos - runningBatchAge().toNanos()) / 1_000_000));
            try {
                thread.join(waitMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return !thread.isAlive();
        }
        return true;
    }

    @Override
    public void close() {
        closeAndJoin();
    }
}
