package io.sealstream.envelope;

/**
 * Why an envelope could not be opened. The code is safe to put on a DLQ record, a log line or a
 * metric label: it names the failure and never carries key material or plaintext.
 */
public enum ReasonCode {
    /** A field is missing, has the wrong length, or the authenticated payload does not decode. */
    MALFORMED("malformed", "The record does not have the shape of a v1 envelope; re-send it with a current client."),
    /** The payload authenticated, but its plaintext schema is unknown to this reader. */
    UNDECODABLE("undecodable", "The payload authenticated but its schema is unknown here; upgrade the reader (docs/schemas.md)."),
    /** The envelope names a protocol version this worker does not speak. */
    UNSUPPORTED_VERSION("unsupported_version", "Upgrade the worker or send with a client that speaks envelope v1."),
    /** Authentication failed: a byte of the ciphertext, nonce, wrapped DEK or a clear field changed. */
    TAMPERED("tampered", "The record was altered or moved to another request, client or topic; re-send the original request."),
    /** The key id is not one of the topic's keys. */
    UNKNOWN_KEY("unknown_key", "The record was sealed to a key this topic never had; fetch the topic's public keys again."),
    /** The key id belonged to the topic but its grace period ended and the private key is destroyed. */
    RETIRED_KEY("retired_key", "The topic key was rotated out; the client must open a new session with the current key and re-send."),
    /** The record is older than the worker accepts. */
    EXPIRED("expired", "The request is older than max-request-age; re-send it as a new request.");

    private final String code;
    private final String remedy;

    ReasonCode(String code, String remedy) {
        this.code = code;
        this.remedy = remedy;
    }

    /** Stable lower-case code for wire formats and metrics. */
    public String code() {
        return code;
    }

    /** What the sender should do about it. */
    public String remedy() {
        return remedy;
    }
}
