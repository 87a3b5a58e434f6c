package io.sealstream.client;

import io.micrometer.core.instrument.Timer;
import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The client's meters, in the registry its caller gave (or none). */
final class ClientMeters {
    /** How a request ended, as the {@code outcome} tag says it. */
    enum Outcome { ANSWERED, REJECTED, TIMEOUT, FAILED }

    private final Meters meters;
    private final Map<Outcome, Timer> requests = new EnumMap<>(Outcome.class);
    private final Timer seal;
    private final Timer open;

    ClientMeters(Meters meters) {
        this.meters = meters;
        for (Outcome o : Outcome.values()) {
            requests.put(o, meters.timer(SealstreamMeter.CLIENT_REQUEST_TIME, o.name().toLowerCase(java.util.Locale.ROOT)));
        }
        this.seal = meters.timer(SealstreamMeter.CLIENT_SEAL);
        this.open = meters.timer(SealstreamMeter.CLIENT_OPEN);
    }

    /** Reads the client's own counts of dropped responses. */
    void dropped(AtomicLong duplicates, AtomicLong forgeries) {
        meters.functionCounter(SealstreamMeter.CLIENT_RESPONSES_DROPPED, duplicates, AtomicLong::get, "duplicate");
        meters.functionCounter(SealstreamMeter.CLIENT_RESPONSES_DROPPED, forgeries, AtomicLong::get, "forged");
    }

    void ended(Outcome outcome, long sentNanos) {
        requests.get(outcome).record(System.nanoTime() - sentNanos, TimeUnit.NANOSECONDS);
    }

    void sealed(long nanos) {
        seal.record(nanos, TimeUnit.NANOSECONDS);
    }

    void opened(long nanos) {
        open.record(nanos, TimeUnit.NANOSECONDS);
    }
}
