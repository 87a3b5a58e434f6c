package io.sealstream.envelope;

/**
 * An envelope that cannot be sealed or opened. Each subtype has its own {@link ReasonCode}; the
 * message says what was wrong and what to do, and never contains plaintext or key material.
 */
public abstract sealed class EnvelopeException extends Exception
        permits MalformedEnvelopeException, TamperedEnvelopeException, UnknownKeyException,
                RetiredKeyException, ExpiredRequestException {

    private final ReasonCode reason;

    EnvelopeException(ReasonCode reason, String what, Throwable cause) {
        super(what + " (" + reason.code() + "): " + reason.remedy(), cause);
        this.reason = reason;
    }

    /** The machine-readable reason, safe for DLQ records and metrics. */
    public ReasonCode reason() {
        return reason;
    }
}
