package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedRequest;

/**
 * A request that went through {@link ClientSession#seal}. Only this package can create one, so
 * a producer typed on {@code SealedRequest} cannot be handed plaintext by accident.
 */
public final class SealedRequest {
    private final String topic;
    private final EncryptedRequest record;

    SealedRequest(String topic, EncryptedRequest record) {
        this.topic = topic;
        this.record = record;
    }

    /** The request topic the envelope is bound to. */
    public String topic() {
        return topic;
    }

    /** The request id, also the Kafka record key. */
    public String requestId() {
        return record.getRequestId();
    }

    /** The session whose DEK sealed it. */
    public String sessionId() {
        return record.getSessionId();
    }

    /** A copy of the wire record, for the Avro serializer. */
    public EncryptedRequest toRecord() {
        return EncryptedRequest.newBuilder(record).build();
    }

    @Override
    public String toString() {
        return "SealedRequest[topic=" + topic + ", requestId=" + record.getRequestId()
                + ", clientId=" + record.getClientId() + ", sessionId=" + record.getSessionId()
                + ", keyId=" + record.getKeyId() + ", ciphertextBytes=" + record.getCiphertext().remaining() + "]";
    }
}
