package io.sealstream.localstack;

import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.worker.engine.InferenceEngine;
import java.util.List;
import java.util.Set;

/** One loaded engine used by several in-process workers; only the stack closes the real one. */
final class SharedEngine implements InferenceEngine {
    private final InferenceEngine engine;

    SharedEngine(InferenceEngine engine) {
        this.engine = engine;
    }

    @Override
    public Set<String> models() {
        return engine.models();
    }

    @Override
    public byte[] modelDigest() {
        return engine.modelDigest();
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch) {
        return engine.infer(batch);
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch, List<io.sealstream.streams.TokenSink> sinks) {
        return engine.infer(batch, sinks);
    }

    @Override
    public java.time.Duration loadTime() {
        return engine.loadTime();
    }

    @Override
    public void close() {
        // the stack owns the engine
    }
}
