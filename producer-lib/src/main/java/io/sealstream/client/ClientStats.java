package io.sealstream.client;

/** Counters of a client since it was built. */
public record ClientStats(long sent, long answered, long rejected, long timedOut, long duplicatesDropped,
                          long forgeriesDropped, long sessionsOpened) {
}
