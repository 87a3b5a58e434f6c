package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.time.Instant;

/**
 * A request opened inside a worker, with the {@link ResponseSealer} of its answer (which holds
 * only the derived response key, not the session DEK). Its {@code toString()} names ids only.
 */
public final class OpenedRequest {
    private final String topic;
    private final String requestId;
    private final String clientId;
    private final String responseTopic;
    private final String sessionId;
    private final Instant createdAt;
    private final InferenceRequest request;
    private final ResponseSealer sealer;
    private final ChunkSealer chunks;

    OpenedRequest(String topic, RequestHeader header, InferenceRequest request, ResponseSealer sealer,
                  ChunkSealer chunks) {
        this.topic = topic;
        this.requestId = header.requestId();
        this.clientId = header.clientId();
        this.responseTopic = header.responseTopic();
        this.sessionId = header.sessionId();
        this.createdAt = Instant.ofEpochMilli(header.createdAtMillis());
        this.request = request;
        this.sealer = sealer;
        this.chunks = chunks;
    }

    /**
     * What seals the chunks of this request's answer as it is generated: present when the request
     * is a chat completion that asks to stream (docs/streaming.md).
     */
    public java.util.Optional<ChunkSealer> chunkSealer() {
        return java.util.Optional.ofNullable(chunks);
    }

    /** The decrypted request: plaintext, to be handled inside the TEE only. */
    public InferenceRequest request() {
        return request;
    }

    /** Seals {@code response} for the client; see {@link ResponseSealer#seal}. */
    public EncryptedResponse sealResponse(InferenceResponse response, Instant now) {
        return sealer.seal(response, now);
    }

    /** Seals an error answer naming the requested model; see {@link ResponseSealer#sealError}. */
    public EncryptedResponse sealError(String code, String message, Instant now) {
        return sealer.sealError(request.getModel(), code, message, now);
    }

    /** What seals this request's answer, for callers that hand it on without the plaintext. */
    public ResponseSealer sealer() {
        return sealer;
    }

    public String topic() {
        return topic;
    }

    public String requestId() {
        return requestId;
    }

    public String clientId() {
        return clientId;
    }

    /** Where the sealed response must be produced. */
    public String responseTopic() {
        return responseTopic;
    }

    public String sessionId() {
        return sessionId;
    }

    public Instant createdAt() {
        return createdAt;
    }

    @Override
    public String toString() {
        return "OpenedRequest[topic=" + topic + ", requestId=" + requestId + ", clientId=" + clientId
                + ", sessionId=" + sessionId + "]";
    }
}
