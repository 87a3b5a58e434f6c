package io.sealstream.cli.bench;

import io.sealstream.worker.engine.SyntheticEngine;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.worker.engine.InferenceEngine;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A stand-in engine for scaling measurements (benchmarks only): every batch takes the same wall
 * time, asleep, whatever its size, and then answers as {@link SyntheticEngine} does. It needs no
 * CPU, so workers added to one machine scale as they would on machines of their own, until the
 * pipeline's own CPU runs out. Thread-safe: concurrent batches sleep side by side.
 */
final class FixedLatencyEngine implements InferenceEngine {
    private final SyntheticEngine answers;
    private final Duration perBatch;

    FixedLatencyEngine(Duration perBatch) {
        this.perBatch = perBatch;
        this.answers = new SyntheticEngine("synthetic-sleep-" + perBatch.toMillis() + "ms");
    }

    @Override
    public Set<String> models() {
        return answers.models();
    }

    @Override
    public byte[] modelDigest() {
        return answers.modelDigest();
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch) {
        try {
            Thread.sleep(perBatch.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while standing in for inference", e);
        }
        return answers.infer(batch);
    }

    @Override
    public void close() {
    }
}
