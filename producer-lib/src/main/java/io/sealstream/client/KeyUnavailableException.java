package io.sealstream.client;

/** The topic's public keys could not be fetched: broker unreachable, unknown topic, or refused. */
public final class KeyUnavailableException extends SealstreamException {
    KeyUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
