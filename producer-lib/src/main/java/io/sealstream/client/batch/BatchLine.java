package io.sealstream.client.batch;

import io.sealstream.schemas.v1.InferenceRequest;

/**
 * One valid line of an OpenAI Batch input file, parsed. Plaintext: it lives only in the
 * submitting process while its request is being sealed.
 *
 * @param lineNumber 1-based line in the input file
 * @param customId the caller's id, unique in the file
 * @param endpoint the endpoint named by {@code url}
 * @param request the request to seal and send
 */
public record BatchLine(long lineNumber, String customId, Endpoint endpoint, InferenceRequest request) {
    @Override
    public String toString() {
        return "BatchLine[line=" + lineNumber + ", customId=" + customId + ", endpoint=" + endpoint.path() + "]";
    }
}
