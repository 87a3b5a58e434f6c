package io.sealstream.schemas.registry;

/**
 * The schema registry answered with an error. Carries the HTTP status and the registry's own
 * error code (e.g. 40401 subject not found, 40403 schema not found, 409 incompatible schema).
 */
public class SchemaRegistryException extends RuntimeException {
    /** No HTTP status: the registry was not reached. */
    public static final int NO_STATUS = -1;

    private final int httpStatus;
    private final int errorCode;

    public SchemaRegistryException(String message, int httpStatus, int errorCode, Throwable cause) {
        super(message, cause);
        this.httpStatus = httpStatus;
        this.errorCode = errorCode;
    }

    /** The HTTP status, or {@link #NO_STATUS}. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The registry's {@code error_code}, or the HTTP status when the body had none. */
    public int errorCode() {
        return errorCode;
    }

    /** True for "subject not found", "version not found" and "schema not found". */
    public boolean isNotFound() {
        return httpStatus == 404;
    }

    /**
     * True when the registry was unreachable or failed on its side (5xx, 429): the same call may
     * succeed later, so a record that needed it should wait, not be refused.
     */
    public boolean isTransient() {
        return httpStatus == NO_STATUS || httpStatus >= 500 || httpStatus == 429;
    }
}
