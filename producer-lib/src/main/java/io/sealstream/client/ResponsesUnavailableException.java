package io.sealstream.client;

/**
 * The client's listener on its response topic stopped, so no answer can arrive: every pending
 * request fails with this at once instead of timing out one by one, and new requests are refused.
 * Close the client and build a new one; requests can be re-sent with the same ids.
 */
public final class ResponsesUnavailableException extends SealstreamException {
    ResponsesUnavailableException(String topic, Throwable cause) {
        super("the listener on response topic '" + topic + "' stopped (" + cause.getClass().getSimpleName()
                + "); no answers can arrive: close this client, build a new one and re-send with the same request ids",
                cause);
    }
}
