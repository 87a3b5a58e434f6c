package io.sealstream.client.batch;

import java.util.Locale;

/** The lifecycle of a batch job, as OpenAI's Batch API names it. */
public enum BatchStatus {
    /** Every input line is being checked; nothing is sent yet. */
    VALIDATING,
    /** Requests are being sent and answered. */
    IN_PROGRESS,
    /** Every request is answered; the output files are being closed. */
    FINALIZING,
    /** Every line has its answer (or error) in the output or errors file. */
    COMPLETED,
    /** The job stopped: invalid input, or attestation, policy or key failures. */
    FAILED,
    /** Stopped on request; running the same submit again resumes it. */
    CANCELLED;

    /** The lower-case name used in files and output. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    static BatchStatus of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }
}
