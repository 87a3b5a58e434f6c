package io.sealstream.attestation.policy;

/** A policy file that does not validate; the message names the field, e.g. {@code tee.snp.measurements[1]}. */
public final class PolicyException extends IllegalArgumentException {
    private final String field;

    PolicyException(String field, String problem) {
        super("policy field " + field + ": " + problem);
        this.field = field;
    }

    /** The dotted path of the field at fault. */
    public String field() {
        return field;
    }
}
