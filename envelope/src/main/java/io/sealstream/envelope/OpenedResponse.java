package io.sealstream.envelope;

import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.ResponseStatus;

/**
 * A response opened by the client that sent the request, with the provenance it authenticated
 * (null from a worker older than provenance). Its {@code toString()} names ids and status only:
 * the body is plaintext.
 */
public record OpenedResponse(String requestId, ResponseStatus status, InferenceResponse body,
                             io.sealstream.schemas.v1.Provenance provenance) {
    @Override
    public String toString() {
        return "OpenedResponse[requestId=" + requestId + ", status=" + status + "]";
    }
}
