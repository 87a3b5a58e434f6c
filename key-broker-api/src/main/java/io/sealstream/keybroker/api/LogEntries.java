package io.sealstream.keybroker.api;

import java.util.List;

/**
 * {@code GET /v1/log/entries?start=&end=}: entries {@code start} to {@code end - 1} of the
 * transparency log, each the canonical bytes its leaf hashes (at most 256 per answer).
 */
public record LogEntries(long start, List<byte[]> entries) {
}
