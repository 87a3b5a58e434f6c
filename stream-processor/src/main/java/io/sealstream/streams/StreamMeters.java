package io.sealstream.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import io.sealstream.schemas.ErrorCode;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The stream processor's meters, made once per worker. A request is counted when its answer,
 * error or dead letter is handed to the producer: a transaction that aborts hands it over again
 * after the restart, so counts can run a little ahead of what clients received, never behind.
 */
final class StreamMeters {
    /** How a request ended, as the {@code outcome} tag says it. */
    enum Outcome {
        ANSWERED("answered"), ERROR("error"), DEAD_LETTER("dead_letter");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    private static final String NO_CODE = "none";

    private final Meters meters;
    private final Counter answered;
    private final Map<Outcome, Map<ErrorCode, Counter>> failed = new EnumMap<>(Outcome.class);
    final Timer request;
    final Timer queueWait;
    final Timer linger;
    final Timer inference;
    final Timer open;
    final Timer seal;
    final DistributionSummary batchSize;

    StreamMeters(Meters meters) {
        this.meters = meters;
        this.answered = meters.counter(SealstreamMeter.WORKER_REQUESTS, Outcome.ANSWERED.tag, NO_CODE);
        failed.put(Outcome.ERROR, new ConcurrentHashMap<>());
        failed.put(Outcome.DEAD_LETTER, new ConcurrentHashMap<>());
        this.request = meters.timer(SealstreamMeter.WORKER_REQUEST_TIME);
        this.queueWait = meters.timer(SealstreamMeter.WORKER_QUEUE_WAIT);
        this.linger = meters.timer(SealstreamMeter.WORKER_BATCH_LINGER);
        this.inference = meters.timer(SealstreamMeter.WORKER_INFERENCE);
        this.open = meters.timer(SealstreamMeter.WORKER_OPEN);
        this.seal = meters.timer(SealstreamMeter.WORKER_SEAL);
        this.batchSize = meters.summary(SealstreamMeter.WORKER_BATCH_SIZE);
    }

    void answered() {
        answered.increment();
    }

    /** An encrypted error ({@link Outcome#ERROR}) or a dead letter, by its code. */
    void failed(Outcome outcome, ErrorCode code) {
        failed.get(outcome).computeIfAbsent(code,
                c -> meters.counter(SealstreamMeter.WORKER_REQUESTS, outcome.tag, c.code())).increment();
    }

    /** Records a time measured in {@link System#nanoTime} units, ignoring a negative one (a clock step). */
    static void record(Timer timer, long nanos) {
        if (nanos >= 0) {
            timer.record(nanos, TimeUnit.NANOSECONDS);
        }
    }
}
