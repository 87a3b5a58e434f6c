package io.sealstream.envelope;

import java.time.Duration;

/** The request was sealed longer ago than the worker's max-request-age allows. */
public final class ExpiredRequestException extends EnvelopeException {
    ExpiredRequestException(String requestId, Duration age, Duration maxAge) {
        super(ReasonCode.EXPIRED,
                "request " + requestId + " is " + age.toSeconds() + " s old, more than the "
                        + maxAge.toSeconds() + " s allowed",
                null);
    }
}
