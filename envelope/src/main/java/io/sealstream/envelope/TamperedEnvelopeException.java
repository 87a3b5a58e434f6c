package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;

/**
 * Authentication failed. The cause is deliberately not kept: the crypto library's message adds
 * nothing a sender could act on and must not leak which check failed to an attacker.
 */
public final class TamperedEnvelopeException extends EnvelopeException {
    TamperedEnvelopeException(String what) {
        super(ErrorCode.TAMPERED, what, null);
    }
}
