package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;

/** The envelope names a topic key whose grace period has ended; its private part is destroyed. */
public final class RetiredKeyException extends EnvelopeException {
    private final long keyId;

    RetiredKeyException(String topic, long keyId) {
        super(ErrorCode.RETIRED_KEY, "key id " + keyId + " of topic '" + topic + "' is retired", null);
        this.keyId = keyId;
    }

    /** The key id the envelope named. */
    public long keyId() {
        return keyId;
    }
}
