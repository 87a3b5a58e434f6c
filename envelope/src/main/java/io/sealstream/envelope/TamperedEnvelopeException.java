package io.sealstream.envelope;

/**
 * Authentication failed. The cause is deliberately not kept: the crypto library's message adds
 * nothing a sender could act on and must not leak which check failed to an attacker.
 */
public final class TamperedEnvelopeException extends EnvelopeException {
    TamperedEnvelopeException(String what) {
        super(ReasonCode.TAMPERED, what, null);
    }
}
