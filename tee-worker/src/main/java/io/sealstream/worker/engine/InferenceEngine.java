package io.sealstream.worker.engine;

import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.util.List;
import java.util.Set;

/**
 * An inference engine inside the TEE. The worker routes each request to the engine serving its
 * model and attests to {@link #modelDigest()}, so a worker that loaded other model files gets no
 * keys.
 */
public interface InferenceEngine extends AutoCloseable {
    /** The model names this engine serves, as requests name them. */
    Set<String> models();

    /** SHA-256 over the model files this engine loaded (32 bytes). */
    byte[] modelDigest();

    /**
     * One response per request, in order. A bad request (wrong task, empty input) gets a response
     * with an error that says what to fix without quoting the input; the engine never throws for it.
     */
    List<InferenceResponse> infer(List<InferenceRequest> batch);

    /**
     * As {@link #infer(List)}, with a sink per request for the text of an answer as it is
     * generated (docs/streaming.md); an engine that does not generate text ignores them.
     */
    default List<InferenceResponse> infer(List<InferenceRequest> batch, List<io.sealstream.streams.TokenSink> sinks) {
        return infer(batch);
    }

    /**
     * The work {@code request} brings to a batch (see the stream processor's
     * {@code BatchHandler.cost}): one unit per embedded text or per token the engine may process.
     * Never throws; a request of the wrong shape costs one (it is refused without inference).
     */
    default long cost(InferenceRequest request) {
        return 1;
    }

    /** An upper bound of the encoded answer to {@code request} in bytes, or 0 if unknown. Never throws. */
    default long maxAnswerBytes(InferenceRequest request) {
        return 0;
    }

    /** How long loading the model took (zero for an engine that loads nothing). */
    default java.time.Duration loadTime() {
        return java.time.Duration.ZERO;
    }

    @Override
    void close();
}
