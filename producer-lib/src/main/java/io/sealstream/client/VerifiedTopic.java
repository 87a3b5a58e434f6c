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
 * beside the bound keys), empty if it did not say.
 */
public record VerifiedTopic(TopicPublicKeys keys, AttestationPolicy policy, AttestedClaims brokerClaims,
                            Instant verifiedAt, Optional<Instant> primaryRotatesAt) {
}
