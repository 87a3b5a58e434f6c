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
}
