package io.sealstream.worker.engine;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A stand-in embeddings engine for measuring the pipeline alone (benchmarks and load tests, never
 * a deployment): each text gets an 8-float vector taken from its SHA-256, in microseconds, so
 * what is measured is sealing, Kafka, batching and routing. Model name {@value #MODEL} unless
 * another is given (a second pool's stand-in model).
 */
public final class SyntheticEngine implements InferenceEngine {
    /** The model name requests use. */
    public static final String MODEL = "synthetic-sha256-8";

    private final String model;

    /** The engine serving {@value #MODEL}. */
    public SyntheticEngine() {
        this(MODEL);
    }

    /** The engine under another model name (and so another digest). */
    public SyntheticEngine(String model) {
        this.model = java.util.Objects.requireNonNull(model, "model");
    }

    @Override
    public Set<String> models() {
        return Set.of(model);
    }

    @Override
    public byte[] modelDigest() {
        return sha256(model);
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch) {
        List<InferenceResponse> out = new ArrayList<>(batch.size());
        for (InferenceRequest r : batch) {
            if (!(r.getTask() instanceof EmbeddingsInput in) || !model.equals(r.getModel())) {
                out.add(InferenceResponse.newBuilder().setModel(r.getModel()).setOutput(null)
                        .setError(new InferenceError(ErrorCode.UNSUPPORTED_TASK.code(), model + " serves embeddings only")).build());
                continue;
            }
            List<Embedding> data = new ArrayList<>();
            for (int i = 0; i < in.getInput().size(); i++) {
                byte[] h = sha256(in.getInput().get(i));
                List<Float> v = new ArrayList<>(8);
                for (int j = 0; j < 8; j++) {
                    v.add((h[j] & 0xFF) / 255f);
                }
                data.add(new Embedding(i, v));
            }
            out.add(InferenceResponse.newBuilder().setModel(model).setError(null)
                    .setOutput(new EmbeddingsResult(data, new Usage(in.getInput().size(), 0, in.getInput().size()))).build());
        }
        return out;
    }

    @Override
    public void close() {
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
