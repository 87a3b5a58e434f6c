package io.sealstream.cli.stack;

import io.sealstream.worker.engine.EmbeddingEngine;
import io.sealstream.worker.engine.EmbeddingModel;
import io.sealstream.worker.engine.InferenceEngine;

/** The engines the CLI can put in a worker. */
public final class Engines {
    private Engines() {
    }

    /** The default: quantized all-MiniLM-L6-v2 sentence embeddings on ONNX Runtime, offline. */
    public static InferenceEngine defaultEmbeddings() {
        return EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q);
    }
}
