package io.sealstream.client;

import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.TopicPublicKeys;
import java.time.Instant;
import java.util.Optional;

/**
 * A request topic's public keys as this client verified them: bound by the key broker's evidence
 * to the pinned measurement and policy. {@link #policy()} tells which model digests workers may run;
 * {@link #primaryRotatesAt()} when the key broker will rotate the primary key (a hint it serves
 * beside the bound keys), empty if it did not say. {@link #log()} is what the transparency log
 * proved, empty for a trust without a log.
 */
public record VerifiedTopic(TopicPublicKeys keys, AttestationPolicy policy, AttestedClaims brokerClaims,
                            Instant verifiedAt, Optional<Instant> primaryRotatesAt, Optional<LogCheck> log) {

    /**
     * What the client proved in the transparency log: the head it accepted (consistent with every
     * earlier one it kept), and the entries of the policy and the broker's measurement in it.
     *
     * @param head the head accepted
     * @param policyIndex the policy's entry
     * @param policyLoggedAt when the policy entered the log
     * @param measurementIndex the broker measurement's entry
     */
    public record LogCheck(io.sealstream.transparency.SignedTreeHead head, long policyIndex, Instant policyLoggedAt,
                           long measurementIndex) {
    }
}
