package io.sealstream.envelope;

import java.util.Objects;

/**
 * The lease a worker answers under, as the key broker granted it: its id, where the broker's
 * transparency log holds it (-1 if not told), and the TEE type and launch measurement the broker
 * verified. A worker installs it in its {@link RequestOpener}; every response sealed afterwards
 * carries it, with the serving model's digest, as its provenance.
 */
public record WorkerLease(String leaseId, long logIndex, String tee, String measurement) {

    /**
     * @throws IllegalArgumentException unless the lease id is 1 to 64 letters, digits and '-', the
     *     TEE type at most 16 lower-case letters, digits and '-', and the measurement at most 128
     *     lower-case hex digits: what a key broker sends, and nothing a terminal would act on
     */
    public WorkerLease {
        Objects.requireNonNull(leaseId, "leaseId");
        Objects.requireNonNull(tee, "tee");
        Objects.requireNonNull(measurement, "measurement");
        if (!leaseId.matches("[A-Za-z0-9-]{1,64}") || !tee.matches("[a-z0-9-]{0,16}")
                || !measurement.matches("[0-9a-f]{0,128}")) {
            throw new IllegalArgumentException("a lease is named by 1 to 64 letters, digits and '-', with a TEE type of "
                    + "at most 16 lower-case letters, digits and '-' and a measurement of at most 128 hex digits");
        }
    }
}
