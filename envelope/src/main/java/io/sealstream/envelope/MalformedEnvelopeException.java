package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;

/** The record does not have the shape of an envelope this code understands. */
public final class MalformedEnvelopeException extends EnvelopeException {
    MalformedEnvelopeException(ErrorCode reason, String what) {
        super(reason, what, null);
    }

    MalformedEnvelopeException(String what, Throwable cause) {
        super(ErrorCode.MALFORMED, what, cause);
    }

    /** Malformed after authentication: the client can be answered through {@code responder}. */
    MalformedEnvelopeException(ErrorCode reason, String what, ResponseSealer responder) {
        super(reason, what, null, responder);
    }
}
