package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;

/**
 * An envelope that cannot be sealed or opened. Each subtype has its own {@link ErrorCode}; the
 * message says what was wrong and what to do, and never contains plaintext or key material.
 */
public abstract sealed class EnvelopeException extends Exception
        permits MalformedEnvelopeException, TamperedEnvelopeException, UnknownKeyException,
                RetiredKeyException, ExpiredRequestException {

    private final ErrorCode reason;
    private final transient ResponseSealer responder;

    EnvelopeException(ErrorCode reason, String what, Throwable cause) {
        this(reason, what, cause, null);
    }

    EnvelopeException(ErrorCode reason, String what, Throwable cause, ResponseSealer responder) {
        super(what + " (" + reason.code() + "): " + reason.remedy(), cause);
        this.reason = reason;
        this.responder = responder;
    }

    /**
     * Present when the request did authenticate before it failed (it expired, its created_at lies
     * in the future, or its plaintext does not decode): the worker can then tell the client, under
     * the response key, instead of dead-lettering the record.
     */
    public java.util.Optional<ResponseSealer> responder() {
        return java.util.Optional.ofNullable(responder);
    }

    /** The machine-readable reason, safe for DLQ records and metrics. */
    public ErrorCode reason() {
        return reason;
    }
}
