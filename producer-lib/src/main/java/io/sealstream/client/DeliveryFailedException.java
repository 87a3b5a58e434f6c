package io.sealstream.client;

/** The sealed request could not be written to the request topic. Retrying with the same request id is safe. */
public final class DeliveryFailedException extends SealstreamException {
    DeliveryFailedException(String requestId, Throwable cause) {
        super("request " + requestId + " could not be written to Kafka (" + cause.getClass().getSimpleName()
                + "); check the bootstrap servers and ACLs, then retry with the same request id", cause);
    }
}
