package io.sealstream.client;

import io.sealstream.attestation.EvidenceVerifier;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What a client requires of the key broker before it sends anything: evidence that verifies with
 * {@code verifier} (AMD/Intel roots; a development root only if the verifier was explicitly built
 * to trust one), a launch measurement among {@code measurements}, and exactly the policy
 * {@code policyId}, and a root secret in sealed custody ({@code peer} or {@code recovery}) unless
 * {@code allowDevCustody} says otherwise; with a {@code log}, the policy and the broker's
 * measurement proven in its transparency log ({@link LogTrust}). Connection files always pin a log;
 * a trust built without one ({@link #pinned}) accepts the pinned policy without its history, and
 * suits only tests and tools that check the log themselves. The Privatemode idea: the client, not
 * the operator, decides whom to trust.
 */
public record BrokerTrust(EvidenceVerifier verifier, Set<String> measurements, String policyId, boolean allowDevCustody,
                          LogTrust log) {

    /** A strict trust: a broker in dev custody (root secret in a host-readable file) is refused. */
    public BrokerTrust(EvidenceVerifier verifier, Set<String> measurements, String policyId) {
        this(verifier, measurements, policyId, false, null);
    }

    public BrokerTrust(EvidenceVerifier verifier, Set<String> measurements, String policyId, boolean allowDevCustody) {
        this(verifier, measurements, policyId, allowDevCustody, null);
    }

    public BrokerTrust {
        Objects.requireNonNull(verifier, "verifier");
        if (measurements == null || measurements.isEmpty()) {
            throw new IllegalArgumentException("pin at least one key broker measurement");
        }
        measurements = Set.copyOf(measurements.stream().map(m -> m.toLowerCase(Locale.ROOT)).toList());
        if (policyId == null || !policyId.matches("[0-9a-fA-F]{64}")) {
            throw new IllegalArgumentException("pin the policy id: the 64-hex-digit SHA-256 the key broker publishes");
        }
        policyId = policyId.toLowerCase(Locale.ROOT);
    }

    /**
     * The same pins, also accepting a broker whose root secret is in a file in its data directory:
     * for the simulated dev stack only, where the host is the developer.
     */
    public BrokerTrust allowingDevCustody() {
        return new BrokerTrust(verifier, measurements, policyId, true, log);
    }

    /** The same pins, and the policy and measurement proven in the transparency log {@code log} trusts. */
    public BrokerTrust withLog(LogTrust log) {
        return new BrokerTrust(verifier, measurements, policyId, allowDevCustody, Objects.requireNonNull(log, "log"));
    }

    /** Trust one measurement and one policy, strictly. */
    public static BrokerTrust pinned(EvidenceVerifier verifier, String measurement, String policyId) {
        return new BrokerTrust(verifier, Set.of(measurement), policyId);
    }
}
