package io.sealstream.worker.engine;

import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sentence embeddings with all-MiniLM-L6-v2 on DJL's ONNX Runtime engine, fully offline: the
 * tokenizer is DJL's HuggingFace tokenizer on the model's own tokenizer.json, the ONNX model runs
 * on ONNX Runtime, and the token vectors are mean-pooled over the attention mask and
 * L2-normalised, as sentence-transformers does.
 *
 * <p>A batch is embedded in forward passes of up to {@value #MAX_TEXTS_PER_PASS} texts, padded to
 * the longest text of the pass. Thread-safe: passes are serialized, because one ONNX Runtime
 * session already uses every core.
 */
public final class EmbeddingEngine implements InferenceEngine {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingEngine.class);
    /** Texts per forward pass. */
    public static final int MAX_TEXTS_PER_PASS = 64;

    private final java.time.Duration loadTime;
    private final EmbeddingModel model;
    private final ModelFiles files;
    private final HuggingFaceTokenizer tokenizer;
    private final ZooModel<NDList, NDList> onnx;
    private final Predictor<NDList, NDList> predictor;

    private EmbeddingEngine(EmbeddingModel model) {
        this.model = model;
        // DJL must stay offline inside a TEE: no model hub, no telemetry (DJL reads both as an
        // environment variable or a system property)
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getenv("OPT_OUT_TRACKING") == null && System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        Engine.getEngine("OnnxRuntime"); // DJL's engine must own ONNX Runtime's first initialisation
        long started = System.nanoTime();
        this.files = ModelFiles.extract(EmbeddingEngine.class.getClassLoader(),
                List.of(model.onnxResource(), model.tokenizerResource()));
        try {
            this.tokenizer = HuggingFaceTokenizer.newInstance(files.file(1), Map.of(
                    "maxLength", Integer.toString(EmbeddingModel.MAX_TOKENS),
                    "truncation", "true",
                    "padding", "false",
                    "addSpecialTokens", "true"));
            this.onnx = Criteria.builder()
                    .setTypes(NDList.class, NDList.class)
                    .optModelPath(files.file(0))
                    .optEngine("OnnxRuntime")
                    .optTranslator(new NoopTranslator())
                    .build()
                    .loadModel();
            this.predictor = onnx.newPredictor();
        } catch (IOException e) {
            files.close();
            throw new UncheckedIOException("cannot load the " + model.modelName() + " model files", e);
        } catch (ModelNotFoundException | MalformedModelException e) {
            files.close();
            throw new IllegalStateException("DJL cannot load the " + model.modelName() + " ONNX model", e);
        }
        this.loadTime = java.time.Duration.ofNanos(System.nanoTime() - started);
        LOG.info("engine.loaded model={} ms={} digest_prefix={}", model.modelName(),
                loadTime.toMillis(), java.util.HexFormat.of().formatHex(files.digest()).substring(0, 16));
    }

    @Override
    public java.time.Duration loadTime() {
        return loadTime;
    }

    /** Loads {@code model}; takes a few seconds. */
    public static EmbeddingEngine load(EmbeddingModel model) {
        return new EmbeddingEngine(model);
    }

    @Override
    public Set<String> models() {
        return Set.of(model.modelName());
    }

    @Override
    public byte[] modelDigest() {
        return files.digest();
    }

    /** The model this engine runs. */
    public EmbeddingModel model() {
        return model;
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch) {
        List<InferenceResponse> out = new ArrayList<>(batch.size());
        List<String> texts = new ArrayList<>();
        List<int[]> spans = new ArrayList<>(); // per request: first text index, count; null if refused
        for (InferenceRequest r : batch) {
            InferenceResponse refusal = check(r);
            if (refusal != null) {
                out.add(refusal);
                spans.add(null);
                continue;
            }
            List<String> input = ((EmbeddingsInput) r.getTask()).getInput();
            spans.add(new int[] {texts.size(), input.size()});
            texts.addAll(input);
            out.add(null);
        }
        Embedded embedded = embedAll(texts);
        for (int i = 0; i < batch.size(); i++) {
            int[] span = spans.get(i);
            if (span == null) {
                continue;
            }
            List<Embedding> data = new ArrayList<>(span[1]);
            int tokens = 0;
            for (int j = 0; j < span[1]; j++) {
                data.add(new Embedding(j, boxed(embedded.vectors[span[0] + j])));
                tokens += embedded.tokens[span[0] + j];
            }
            out.set(i, InferenceResponse.newBuilder().setModel(model.modelName())
                    .setOutput(EmbeddingsResult.newBuilder().setData(data).setUsage(new Usage(tokens, 0, tokens)).build())
                    .setError(null).build());
        }
        return out;
    }

    /** Embeds {@code texts} directly: one L2-normalised 384-float vector per text, in order. */
    public float[][] embed(List<String> texts) {
        return embedAll(texts).vectors;
    }

    /** One unit per text: a text is one row of a forward pass. */
    @Override
    public long cost(InferenceRequest request) {
        return request.getTask() instanceof EmbeddingsInput input ? Math.max(1, input.getInput().size()) : 1;
    }

    /**
     * Per text an Embedding record: index and block count varints (up to 9 bytes) and
     * {@link EmbeddingModel#DIMENSIONS} floats; then usage, model name and framing.
     */
    @Override
    public long maxAnswerBytes(InferenceRequest request) {
        if (!(request.getTask() instanceof EmbeddingsInput input)) {
            return 0;
        }
        return (long) input.getInput().size() * (4L * EmbeddingModel.DIMENSIONS + 9) + 64
                + 4L * model.modelName().length();
    }

    private InferenceResponse check(InferenceRequest r) {
        if (!model.modelName().equals(r.getModel())) {
            return error(r, ErrorCode.MODEL_NOT_SERVED, "this engine serves " + model.modelName());
        }
        if (!(r.getTask() instanceof EmbeddingsInput input)) {
            return error(r, ErrorCode.UNSUPPORTED_TASK, model.modelName() + " computes embeddings; send an embeddings "
                    + "request (/v1/embeddings), or a chat request to a chat model");
        }
        if (input.getInput().isEmpty()) {
            return error(r, ErrorCode.INVALID_REQUEST, "the embeddings input is empty; send at least one text");
        }
        return null;
    }

    private static InferenceResponse error(InferenceRequest r, ErrorCode code, String message) {
        return InferenceResponse.newBuilder().setModel(r.getModel()).setOutput(null)
                .setError(new InferenceError(code.code(), message)).build();
    }

    private Embedded embedAll(List<String> texts) {
        float[][] vectors = new float[texts.size()][];
        int[] tokens = new int[texts.size()];
        long started = System.nanoTime();
        for (int from = 0; from < texts.size(); from += MAX_TEXTS_PER_PASS) {
            int to = Math.min(from + MAX_TEXTS_PER_PASS, texts.size());
            pass(texts.subList(from, to), vectors, tokens, from);
        }
        LOG.debug("engine.embedded model={} texts={} ms={}", model.modelName(), texts.size(),
                (System.nanoTime() - started) / 1_000_000);
        return new Embedded(vectors, tokens);
    }

    private synchronized void pass(List<String> texts, float[][] vectors, int[] tokens, int offset) {
        Encoding[] enc = tokenizer.batchEncode(texts);
        int width = 1;
        for (Encoding e : enc) {
            width = Math.max(width, e.getIds().length);
        }
        int n = enc.length;
        long[] ids = new long[n * width];
        long[] mask = new long[n * width];
        long[] types = new long[n * width];
        for (int i = 0; i < n; i++) {
            long[] eIds = enc[i].getIds();
            long[] eMask = enc[i].getAttentionMask();
            long[] eTypes = enc[i].getTypeIds();
            System.arraycopy(eIds, 0, ids, i * width, eIds.length);
            System.arraycopy(eMask, 0, mask, i * width, eMask.length);
            System.arraycopy(eTypes, 0, types, i * width, eTypes.length);
        }
        try (NDManager manager = NDManager.newBaseManager("OnnxRuntime")) {
            Shape shape = new Shape(n, width);
            NDArray inputIds = manager.create(ids, shape);
            inputIds.setName("input_ids");
            NDArray attention = manager.create(mask, shape);
            attention.setName("attention_mask");
            NDArray typeIds = manager.create(types, shape);
            typeIds.setName("token_type_ids");
            NDList output = predictor.predict(new NDList(inputIds, attention, typeIds));
            float[] hidden = output.get(0).toFloatArray(); // [n, width, 384]
            int dims = (int) output.get(0).getShape().get(2);
            for (int i = 0; i < n; i++) {
                float[] v = new float[dims];
                int count = 0;
                for (int t = 0; t < width; t++) {
                    if (mask[i * width + t] == 0) {
                        continue;
                    }
                    count++;
                    int base = (i * width + t) * dims;
                    for (int d = 0; d < dims; d++) {
                        v[d] += hidden[base + d];
                    }
                }
                double norm = 0;
                for (int d = 0; d < dims; d++) {
                    v[d] /= Math.max(count, 1);
                    norm += v[d] * v[d];
                }
                norm = Math.max(Math.sqrt(norm), 1e-12);
                for (int d = 0; d < dims; d++) {
                    v[d] = (float) (v[d] / norm);
                }
                vectors[offset + i] = v;
                tokens[offset + i] = count;
            }
        } catch (TranslateException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + n + " texts", e);
        }
    }

    private static List<Float> boxed(float[] v) {
        List<Float> out = new ArrayList<>(v.length);
        for (float f : v) {
            out.add(f);
        }
        return out;
    }

    @Override
    public void close() {
        predictor.close();
        onnx.close();
        tokenizer.close();
        files.close();
    }

    @Override
    public String toString() {
        return "EmbeddingEngine[" + model.modelName() + "]";
    }

    private record Embedded(float[][] vectors, int[] tokens) {
    }
}
