package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedRequest;

/** The clear fields of a request envelope, all of them bound into the AAD. */
record RequestHeader(int version, String requestId, String clientId, String responseTopic,
                     String sessionId, long keyId, long createdAtMillis) {

    static RequestHeader of(EncryptedRequest r) {
        return new RequestHeader(r.getVersion(), r.getRequestId(), r.getClientId(), r.getResponseTopic(),
                r.getSessionId(), r.getKeyId(), r.getCreatedAt().toEpochMilli());
    }
}
