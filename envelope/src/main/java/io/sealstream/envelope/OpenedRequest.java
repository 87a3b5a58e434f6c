package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Objects;

/**
 * A request opened inside a worker, with what it takes to seal its answer. It holds only the
 * derived response key, not the session DEK. Its {@code toString()} names ids only.
 */
public final class OpenedRequest {
    private final String topic;
    private final String requestId;
    private final String clientId;
    private final String responseTopic;
    private final String sessionId;
    private final Instant createdAt;
    private final InferenceRequest request;
    private final byte[] responseKey;

    OpenedRequest(String topic, RequestHeader header, InferenceRequest request, byte[] responseKey) {
        this.topic = topic;
        this.requestId = header.requestId();
        this.clientId = header.clientId();
        this.responseTopic = header.responseTopic();
        this.sessionId = header.sessionId();
        this.createdAt = Instant.ofEpochMilli(header.createdAtMillis());
        this.request = request;
        this.responseKey = responseKey;
    }

    /** The decrypted request: plaintext, to be handled inside the TEE only. */
    public InferenceRequest request() {
        return request;
    }

    /**
     * Seals {@code response} for the client. The clear status is ERROR when the response carries
     * an error, OK when it carries output.
     *
     * @throws IllegalArgumentException unless exactly one of output and error is set
     */
    public EncryptedResponse sealResponse(InferenceResponse response, Instant now) {
        Objects.requireNonNull(response, "response");
        if ((response.getOutput() == null) == (response.getError() == null)) {
            throw new IllegalArgumentException("a response to " + requestId
                    + " must carry exactly one of output and error");
        }
        ResponseStatus status = response.getError() != null ? ResponseStatus.ERROR : ResponseStatus.OK;
        long createdAtMillis = now.toEpochMilli();
        byte[] aad = EnvelopeProtocol.responseAad(responseTopic, requestId, clientId, sessionId,
                status.name(), createdAtMillis);
        EnvelopeProtocol.Sealed s = EnvelopeProtocol.seal(responseKey.clone(), PayloadCodec.encode(response), aad);
        return EncryptedResponse.newBuilder()
                .setVersion(EnvelopeProtocol.VERSION)
                .setRequestId(requestId)
                .setClientId(clientId)
                .setSessionId(sessionId)
                .setStatus(status)
                .setCreatedAt(Instant.ofEpochMilli(createdAtMillis))
                .setNonce(ByteBuffer.wrap(s.nonce()))
                .setCiphertext(ByteBuffer.wrap(s.ciphertext()))
                .build();
    }

    /**
     * Seals an error answer. {@code message} must say what was wrong and what to do, and must not
     * quote the request.
     */
    public EncryptedResponse sealError(String code, String message, Instant now) {
        return sealResponse(InferenceResponse.newBuilder()
                .setModel(request.getModel())
                .setOutput(null)
                .setError(new InferenceError(code, message))
                .build(), now);
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
