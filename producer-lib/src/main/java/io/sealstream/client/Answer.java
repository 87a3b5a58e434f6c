package io.sealstream.client;

import io.sealstream.schemas.v1.InferenceResponse;
import java.util.Optional;

/**
 * A worker's answer as the client opened it, with its provenance (empty from a worker older than
 * provenance). Plaintext: it exists only in this process; {@link #toString()} shows no content.
 */
public record Answer(String requestId, InferenceResponse body, Optional<AnswerProvenance> provenance) {
    @Override
    public String toString() {
        return "Answer[requestId=" + requestId + ", provenance=" + provenance + "]";
    }
}
