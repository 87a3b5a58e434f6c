package io.sealstream.keybroker.api;

/**
 * A refused key-broker call: HTTP status (401 not attested, 403 denied by policy, 404 unknown
 * topic, 400 bad request), a stable code, and a message naming the reason and the remedy.
 */
public final class KeyBrokerException extends Exception {
    private final int status;
    private final String code;

    public KeyBrokerException(int status, String code, String message) {
        super(code + ": " + message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** The message without the code prefix, as sent in {@link ErrorBody#message()}. */
    public String detail() {
        return getMessage().substring(code.length() + 2);
    }
}
