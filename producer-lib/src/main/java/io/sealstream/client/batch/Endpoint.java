package io.sealstream.client.batch;

import java.util.Arrays;
import java.util.Optional;

/** The OpenAI endpoints a batch line may name in {@code url}. */
public enum Endpoint {
    EMBEDDINGS("/v1/embeddings"),
    CHAT_COMPLETIONS("/v1/chat/completions");

    private final String path;

    Endpoint(String path) {
        this.path = path;
    }

    public String path() {
        return path;
    }

    static Optional<Endpoint> of(String url) {
        return Arrays.stream(values()).filter(e -> e.path.equals(url)).findFirst();
    }
}
