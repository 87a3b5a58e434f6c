package io.sealstream.keybroker;

import io.micrometer.core.instrument.Counter;
import io.sealstream.audit.AuditSink;
import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The key broker's decisions as counters, beside their {@code audit.*} events: each decision the
 * broker audits is counted here once, by result and code (codes are {@code AttestationFailure}'s
 * and the broker's own denial codes, so every tag has a bounded set of values).
 */
final class BrokerMeters {
    private static final String NONE = "none";

    private final Meters meters;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    BrokerMeters(Meters meters) {
        this.meters = meters;
        // every series a dashboard or alert reads from the start exists at zero before its first event
        counter(SealstreamMeter.BROKER_ATTESTATIONS, "accepted", NONE);
        counter(SealstreamMeter.BROKER_RELEASES, "granted", NONE);
        counter(SealstreamMeter.BROKER_ROTATIONS, "scheduled");
        counter(SealstreamMeter.BROKER_ROTATIONS, "policy_change");
        counter(SealstreamMeter.BROKER_RETIREMENTS);
        counter(SealstreamMeter.BROKER_POLICY_CHANGES);
    }

    void attestationAccepted() {
        count(SealstreamMeter.BROKER_ATTESTATIONS, "accepted", NONE);
    }

    void attestationDenied(String code) {
        count(SealstreamMeter.BROKER_ATTESTATIONS, "denied", code);
    }

    void releaseGranted() {
        count(SealstreamMeter.BROKER_RELEASES, "granted", NONE);
    }

    void releaseDenied(String code) {
        count(SealstreamMeter.BROKER_RELEASES, "denied", code);
    }

    /** {@code reason}: {@code scheduled} or {@code policy_change}. */
    void rotated(String reason) {
        count(SealstreamMeter.BROKER_ROTATIONS, reason);
    }

    void retired(int keys) {
        counter(SealstreamMeter.BROKER_RETIREMENTS).increment(keys);
    }

    void policyChanged() {
        count(SealstreamMeter.BROKER_POLICY_CHANGES);
    }

    /** The meters read from the broker's state: lease expiries, key age and rotation period, the audit topic's counts. */
    void bind(KeyBroker broker, LeaseTokens leases, java.time.Duration rotationPeriod, AuditSink audit) {
        meters.functionCounter(SealstreamMeter.BROKER_AUDIT_EVENTS, audit, AuditSink::written);
        meters.gauge(SealstreamMeter.BROKER_AUDIT_QUEUED, audit, AuditSink::queued);
        meters.functionCounter(SealstreamMeter.BROKER_AUDIT_DROPPED, audit, AuditSink::dropped);
        meters.functionCounter(SealstreamMeter.BROKER_LEASE_EXPIRIES, leases, LeaseTokens::expiredPresented);
        meters.gauge(SealstreamMeter.BROKER_OLDEST_PRIMARY_KEY_AGE, broker, KeyBroker::oldestPrimaryKeySeconds);
        meters.gauge(SealstreamMeter.BROKER_ROTATION_PERIOD, rotationPeriod, p -> p.toMillis() / 1000.0);
    }

    private void count(SealstreamMeter meter, String... tags) {
        counter(meter, tags).increment();
    }

    private Counter counter(SealstreamMeter meter, String... tags) {
        return counters.computeIfAbsent(meter.name() + "|" + String.join("|", tags), k -> meters.counter(meter, tags));
    }
}
