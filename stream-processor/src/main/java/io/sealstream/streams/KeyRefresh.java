package io.sealstream.streams;

/**
 * Fetches the newest topic keys on demand. A record sealed to a key id the worker does not hold
 * may be sealed to a key the broker published after the worker's last refresh; the batcher asks
 * for a refresh and keeps the record until one that started after the record arrived has
 * succeeded (30 s at most), and only then calls the key unknown. Requests are coalesced and rate-limited by the implementation, so records with made-up
 * key ids cost at most one refresh wait each.
 */
public interface KeyRefresh {
    /** Asks for a refresh soon; returns at once. */
    void request();

    /**
     * Wall-clock milliseconds ({@link System#currentTimeMillis()}) at which the latest refresh that
     * installed keys started; 0 if none has. A record first seen before that time has had its chance.
     */
    long lastSuccessStartedAtMillis();

    /** No refresh at all: an unknown key is final at once (topology tests, benchmarks). */
    KeyRefresh NONE = new KeyRefresh() {
        @Override
        public void request() {
        }

        @Override
        public long lastSuccessStartedAtMillis() {
            return Long.MAX_VALUE;
        }
    };
}
