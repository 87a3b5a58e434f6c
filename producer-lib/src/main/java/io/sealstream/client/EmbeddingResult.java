package io.sealstream.client;

import java.util.List;

/**
 * The embeddings of one request: one 384-float (for MiniLM) vector per input text, in input order,
 * and which attested worker produced them ({@link AnswerProvenance}; empty from a worker older than
 * provenance). Plaintext: it exists only in this process.
 */
public record EmbeddingResult(String requestId, String model, List<float[]> embeddings, int promptTokens,
                              java.util.Optional<AnswerProvenance> provenance) {
    @Override
    public String toString() {
        return "EmbeddingResult[requestId=" + requestId + ", model=" + model + ", vectors=" + embeddings.size()
                + ", promptTokens=" + promptTokens + "]";
    }
}
