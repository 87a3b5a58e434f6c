package io.sealstream.schemas;

/**
 * Limits of the request contract that the SDK checks before sending and the worker enforces on
 * arrival, in one place. Limits that depend on the cluster (a topic's {@code max.message.bytes})
 * are read from it by the worker at run time; see docs/operations.md, "Limits".
 */
public final class RequestLimits {
    /** Texts per embeddings request: OpenAI's limit for {@code /v1/embeddings}. */
    public static final int MAX_EMBEDDING_INPUTS = 2048;

    private RequestLimits() {
    }
}
