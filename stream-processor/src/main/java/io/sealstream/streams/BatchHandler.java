package io.sealstream.streams;

import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.util.List;

/**
 * Runs inference on one batch of opened requests. The topology calls it on its stream thread
 * with plaintext that exists only inside the worker; the handler knows nothing of Kafka or keys.
 *
 * <p>It returns one response per request, in order, each carrying output or an error (a request
 * for a model the worker does not serve, say). If it throws, the topology retries the batch one
 * request at a time, so a failure of one request becomes an error answer for that request only.
 */
@FunctionalInterface
public interface BatchHandler {
    List<InferenceResponse> handle(List<InferenceRequest> batch) throws Exception;

    /**
     * As {@link #handle(List)}, with one {@link TokenSink} per request ({@link TokenSink#NONE} for
     * those that do not stream), which the handler may feed the answer's text as it generates it.
     * The default ignores the sinks: the answers then arrive whole, as for any request.
     */
    default List<InferenceResponse> handle(List<InferenceRequest> batch, List<TokenSink> sinks) throws Exception {
        return handle(batch);
    }

    /**
     * The work a request brings to a batch, in the handler's units (one per embedded text, one per
     * chat token, say). The batcher admits requests into one batch until their costs reach
     * {@link StreamProcessorConfig#maxBatchCost()}, so that no batch can outlast the transaction
     * timeout, and refuses a request that alone costs more with {@code request_too_large}.
     * It must not throw; the default counts every request as one.
     */
    default long cost(InferenceRequest request) {
        return 1;
    }

    /**
     * An upper bound of the encoded answer to {@code request} in bytes, or 0 if the handler cannot
     * tell. The batcher refuses a request whose answer could not fit its client's response topic
     * with {@code request_too_large} before inference; answers that still turn out too large
     * become {@code response_too_large}. It must not throw.
     */
    default long maxAnswerBytes(InferenceRequest request) {
        return 0;
    }
}
