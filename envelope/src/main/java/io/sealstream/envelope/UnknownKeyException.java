package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;

/** The envelope names a key id the topic keyset never held. */
public final class UnknownKeyException extends EnvelopeException {
    private final long keyId;

    UnknownKeyException(String topic, long keyId) {
        super(ErrorCode.UNKNOWN_KEY, "key id " + keyId + " is not a key of topic '" + topic + "'", null);
        this.keyId = keyId;
    }

    /** The key id the envelope named. */
    public long keyId() {
        return keyId;
    }
}
