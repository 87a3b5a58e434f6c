package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;
import java.time.Duration;

/**
 * The request was sealed longer ago than the worker's max-request-age allows. It did
 * authenticate, so {@link #responder()} is present: the worker tells the client under the
 * response key.
 */
public final class ExpiredRequestException extends EnvelopeException {
    ExpiredRequestException(String requestId, Duration age, Duration maxAge, ResponseSealer responder) {
        super(ErrorCode.EXPIRED,
                "request " + requestId + " is " + age.toSeconds() + " s old, more than the "
                        + maxAge.toSeconds() + " s allowed",
                null, responder);
    }
}
