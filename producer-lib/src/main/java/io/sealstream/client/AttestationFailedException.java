package io.sealstream.client;

/** The key broker's evidence did not verify, or does not bind this client's nonce and the keys it served. */
public final class AttestationFailedException extends SealstreamException {
    private final String code;

    AttestationFailedException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The failure code, e.g. {@code bad_signature}, {@code unknown_root}, {@code report_data_mismatch}. */
    public String code() {
        return code;
    }
}
