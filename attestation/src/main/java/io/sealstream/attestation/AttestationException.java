package io.sealstream.attestation;

/**
 * Evidence was refused, for exactly one {@link AttestationFailure}. The message names the field
 * or certificate that failed and what to do; it never contains key material.
 */
public final class AttestationException extends Exception {
    private final AttestationFailure failure;
    private final String detail;

    public AttestationException(AttestationFailure failure, String detail) {
        this(failure, detail, null);
    }

    public AttestationException(AttestationFailure failure, String detail, Throwable cause) {
        super(failure.code() + ": " + detail, cause);
        this.failure = failure;
        this.detail = detail;
    }

    /** What failed and what to do, without the code: for a message that names the code once itself. */
    public String detail() {
        return detail;
    }

    public AttestationFailure failure() {
        return failure;
    }
}
