package io.sealstream.client;

/**
 * The worker answered the request with an error (inside the encrypted response): for example
 * {@code model_not_served}, {@code invalid_request}, {@code expired}, {@code engine_failure}.
 */
public final class RequestRejectedException extends SealstreamException {
    private final String requestId;
    private final String code;
    private final String detail;

    RequestRejectedException(String requestId, String code, String message) {
        super("request " + requestId + " was rejected by the worker (" + code + "): " + message, null);
        this.requestId = requestId;
        this.code = code;
        this.detail = message;
    }

    /** The worker's own message: what was wrong and what to do (it never quotes the request). */
    public String detail() {
        return detail;
    }

    public String requestId() {
        return requestId;
    }

    /** The worker's error code. */
    public String code() {
        return code;
    }
}
