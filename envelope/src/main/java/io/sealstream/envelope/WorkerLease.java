package io.sealstream.envelope;

import java.util.Objects;

/**
 * The lease a worker answers under, as the key broker granted it: its id, where the broker's
 * transparency log holds it (-1 if not told), and the TEE type and launch measurement the broker
 * verified. A worker installs it in its {@link RequestOpener}; every response sealed afterwards
 * carries it, with the serving model's digest, as its provenance.
 */
public record WorkerLease(String leaseId, long logIndex, String tee, String measurement) {
    private static final int MAX_FIELD = 128;

    public WorkerLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(tee, "tee");
        Objects.requireNonNull(measurement, "measurement");
        if (leaseId.length() > MAX_FIELD || tee.length() > MAX_FIELD || measurement.length() > MAX_FIELD) {
            throw new IllegalArgumentException("lease fields are at most " + MAX_FIELD + " characters");
        }
    }
}
