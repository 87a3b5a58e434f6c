package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Provenance;
import io.sealstream.schemas.v1.ResponseStatus;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Objects;

/**
 * Seals the one answer to one authenticated request under its response key. It holds the derived
 * response key and the request's ids, never the session DEK or the request itself; the key is
 * zeroed once the answer is sealed, so each response key encrypts exactly once.
 */
public final class ResponseSealer {
    private final String requestId;
    private final String clientId;
    private final String responseTopic;
    private final String sessionId;
    private final byte[] responseKey;
    private final java.util.function.Function<String, Provenance> provenance;
    private boolean used;

    /** @param provenance the provenance of an answer by a model (null: none), taken when the answer is sealed */
    ResponseSealer(RequestHeader header, byte[] responseKey, java.util.function.Function<String, Provenance> provenance) {
        this.requestId = header.requestId();
        this.clientId = header.clientId();
        this.responseTopic = header.responseTopic();
        this.sessionId = header.sessionId();
        this.responseKey = responseKey;
        this.provenance = provenance;
    }

    /**
     * Seals {@code response}. The clear status is ERROR when it carries an error, OK when it
     * carries output.
     *
     * @throws IllegalArgumentException unless exactly one of output and error is set
     */
    public synchronized EncryptedResponse seal(InferenceResponse response, Instant now) {
        Objects.requireNonNull(response, "response");
        if ((response.getOutput() == null) == (response.getError() == null)) {
            throw new IllegalArgumentException("a response to " + requestId
                    + " must carry exactly one of output and error");
        }
        ResponseStatus status = response.getError() != null ? ResponseStatus.ERROR : ResponseStatus.OK;
        long createdAtMillis = now.toEpochMilli();
        Provenance answeredBy = provenance.apply(response.getModel());
        byte[] aad = EnvelopeProtocol.responseAad(responseTopic, requestId, clientId, sessionId,
                status.name(), createdAtMillis, answeredBy);
        if (used) {
            throw new IllegalStateException("the answer to " + requestId + " was already sealed; a request gets one answer");
        }
        EnvelopeProtocol.Sealed s = EnvelopeProtocol.seal(responseKey.clone(), PayloadCodec.encode(response), aad);
        used = true;
        java.util.Arrays.fill(responseKey, (byte) 0);
        return EncryptedResponse.newBuilder()
                .setVersion(EnvelopeProtocol.VERSION)
                .setRequestId(requestId)
                .setClientId(clientId)
                .setSessionId(sessionId)
                .setStatus(status)
                .setCreatedAt(Instant.ofEpochMilli(createdAtMillis))
                .setNonce(ByteBuffer.wrap(s.nonce()))
                .setCiphertext(ByteBuffer.wrap(s.ciphertext()))
                .setProvenance(answeredBy)
                .build();
    }

    /**
     * Seals an error answer. {@code message} must say what was wrong and what to do, and must not
     * quote the request.
     */
    public EncryptedResponse sealError(String model, String code, String message, Instant now) {
        return seal(InferenceResponse.newBuilder()
                .setModel(model)
                .setOutput(null)
                .setError(new InferenceError(code, message))
                .build(), now);
    }

    public String requestId() {
        return requestId;
    }

    public String clientId() {
        return clientId;
    }

    /** The response topic the client asked for; authenticated as part of the request AAD. */
    public String responseTopic() {
        return responseTopic;
    }

    @Override
    public String toString() {
        return "ResponseSealer[requestId=" + requestId + ", clientId=" + clientId + ", sessionId=" + sessionId + "]";
    }
}
