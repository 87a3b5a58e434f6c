package io.sealstream.client;

/**
 * Counters of a client since it was built; {@code unprovenAnswers} counts answers whose lease the
 * key broker's transparency log did not prove (flagged in their provenance).
 */
public record ClientStats(long sent, long answered, long rejected, long timedOut, long duplicatesDropped,
                          long forgeriesDropped, long sessionsOpened, long unprovenAnswers) {
}
