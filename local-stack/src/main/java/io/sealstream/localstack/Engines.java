package io.sealstream.localstack;

import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.ChatModel;
import io.sealstream.worker.engine.EmbeddingEngine;
import io.sealstream.worker.engine.EmbeddingModel;
import io.sealstream.worker.engine.InferenceEngine;
import java.nio.file.Path;

/** The engines the CLI can put in a worker. */
public final class Engines {
    private Engines() {
    }

    /** The default: quantized all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime, offline. */
    public static InferenceEngine defaultEmbeddings() {
        return EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q);
    }

    /** A llama.cpp chat engine for {@code gguf}, named after the file, with the default slots. */
    public static InferenceEngine chat(Path gguf) {
        return ChatEngine.load(ChatModel.of(gguf));
    }
}
