package io.sealstream.attestation;

/**
 * Evidence was refused, for exactly one {@link AttestationFailure}. The message names the field
 * or certificate that failed and what to do; it never contains key material.
 */
public final class AttestationException extends Exception {
    private final AttestationFailure failure;

    public AttestationException(AttestationFailure failure, String detail) {
        this(failure, detail, null);
    }

    public AttestationException(AttestationFailure failure, String detail, Throwable cause) {
        super(failure.code() + ": " + detail, cause);
        this.failure = failure;
    }

    public AttestationFailure failure() {
        return failure;
    }
}
