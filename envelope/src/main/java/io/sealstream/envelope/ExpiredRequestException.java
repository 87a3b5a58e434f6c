package io.sealstream.envelope;

import java.time.Duration;

/**
 * The request was sealed longer ago than the worker's max-request-age allows. It did
 * authenticate, so the worker can still tell the client, under the response key, through
 * {@link #responder()}.
 */
public final class ExpiredRequestException extends EnvelopeException {
    private final transient ResponseSealer responder;

    ExpiredRequestException(String requestId, Duration age, Duration maxAge, ResponseSealer responder) {
        super(ReasonCode.EXPIRED,
                "request " + requestId + " is " + age.toSeconds() + " s old, more than the "
                        + maxAge.toSeconds() + " s allowed",
                null);
        this.responder = responder;
    }

    /** Seals the encrypted error answer for the expired request. */
    public ResponseSealer responder() {
        return responder;
    }
}
