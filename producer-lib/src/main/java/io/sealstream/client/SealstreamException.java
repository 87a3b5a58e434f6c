package io.sealstream.client;

/**
 * Base of every failure the client SDK reports. Subtypes say which step failed; messages say
 * what to do and never contain prompts or results.
 */
public abstract sealed class SealstreamException extends RuntimeException
        permits AttestationFailedException, PolicyMismatchException, KeyUnavailableException,
                RequestRejectedException, RequestTimeoutException, DeliveryFailedException,
                ResponsesUnavailableException, StreamDivergedException {

    SealstreamException(String message, Throwable cause) {
        super(message, cause);
    }
}
