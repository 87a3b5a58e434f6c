package io.sealstream.client;

import io.sealstream.attestation.EvidenceVerifier;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * What a client requires of the key broker before it sends anything: evidence that verifies with
 * {@code verifier} (AMD/Intel roots; a development root only if the verifier was explicitly built
 * to trust one), a launch measurement among {@code measurements}, and exactly the policy
 * {@code policyId}. The Privatemode idea: the client, not the operator, decides whom to trust.
 */
public record BrokerTrust(EvidenceVerifier verifier, Set<String> measurements, String policyId) {

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

    /** Trust one measurement and one policy. */
    public static BrokerTrust pinned(EvidenceVerifier verifier, String measurement, String policyId) {
        return new BrokerTrust(verifier, Set.of(measurement), policyId);
    }
}
