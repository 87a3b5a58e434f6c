package io.sealstream.client.batch;

import java.time.Duration;
import java.util.Optional;

/**
 * How far a batch job is.
 *
 * @param total lines to answer in this job (valid lines, plus invalid ones when skipped)
 * @param alreadyDone lines answered by an earlier run of the same job (resumed)
 * @param sent requests sent by this run
 * @param answered lines answered into the output file by this run
 * @param failed lines written to the errors file by this run
 * @param elapsed time since this run started sending
 */
public record BatchProgress(long total, long alreadyDone, long sent, long answered, long failed, Duration elapsed) {
    /** Lines done, earlier runs included. */
    public long done() {
        return alreadyDone + answered + failed;
    }

    /** Lines per second answered or failed by this run. */
    public double rate() {
        double s = elapsed.toMillis() / 1000.0;
        return s <= 0 ? 0 : (answered + failed) / s;
    }

    /** Time left at the current rate, when there is a rate. */
    public Optional<Duration> eta() {
        double r = rate();
        return r <= 0 ? Optional.empty() : Optional.of(Duration.ofMillis((long) ((total - done()) / r * 1000)));
    }

    /** Receives progress while a job runs and once at its end. */
    @FunctionalInterface
    public interface Listener {
        void update(BatchProgress progress, boolean last);
    }
}
