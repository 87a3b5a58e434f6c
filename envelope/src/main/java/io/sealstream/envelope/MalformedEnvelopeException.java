package io.sealstream.envelope;

/** The record does not have the shape of an envelope this code understands. */
public final class MalformedEnvelopeException extends EnvelopeException {
    MalformedEnvelopeException(ReasonCode reason, String what) {
        super(reason, what, null);
    }

    MalformedEnvelopeException(String what, Throwable cause) {
        super(ReasonCode.MALFORMED, what, cause);
    }

    /** Malformed after authentication: the client can be answered through {@code responder}. */
    MalformedEnvelopeException(ReasonCode reason, String what, ResponseSealer responder) {
        super(reason, what, null, responder);
    }
}
