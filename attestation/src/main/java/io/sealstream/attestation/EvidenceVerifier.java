package io.sealstream.attestation;

import java.time.Instant;

/**
 * Checks that evidence is genuine: parses it, verifies its signature and its certificate chain up
 * to a pinned root, as of {@code at} (so captured evidence verifies deterministically). It makes
 * no policy decision; {@code AttestationPolicy} does that on the returned claims.
 */
public interface EvidenceVerifier {
    AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException;
}
