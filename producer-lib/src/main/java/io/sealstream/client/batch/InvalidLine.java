package io.sealstream.client.batch;

/**
 * A line of a batch input file that cannot be sent, and why (the reason names fields and limits,
 * never the line's text).
 *
 * @param lineNumber 1-based line in the input file
 * @param customId the line's custom_id when it could be read, else null
 * @param reason what is wrong and what to do
 */
public record InvalidLine(long lineNumber, String customId, String reason) {
}
