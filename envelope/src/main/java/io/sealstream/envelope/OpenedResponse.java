package io.sealstream.envelope;

import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.ResponseStatus;

/**
 * A response opened by the client that sent the request. Its {@code toString()} names ids and
 * status only: the body is plaintext.
 */
public record OpenedResponse(String requestId, ResponseStatus status, InferenceResponse body) {
    @Override
    public String toString() {
        return "OpenedResponse[requestId=" + requestId + ", status=" + status + "]";
    }
}
