package io.sealstream.client;

/**
 * The pinned policy routes models to worker pools and none serves the requested model: refused
 * before anything is sealed or sent. An {@link IllegalArgumentException}, as the caller chose the
 * model; the message lists the models the policy's pools serve.
 */
public final class ModelNotServedException extends IllegalArgumentException {
    ModelNotServedException(String message) {
        super(message);
    }
}
