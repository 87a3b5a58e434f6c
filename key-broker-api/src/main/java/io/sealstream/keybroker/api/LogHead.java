package io.sealstream.keybroker.api;

import io.sealstream.transparency.SignedTreeHead;
import java.time.Instant;

/**
 * {@code GET /v1/log/head}: the transparency log's latest signed tree head. The signature covers
 * the size, the timestamp (milliseconds) and the root (docs/transparency.md); the client verifies
 * it with the log key it pinned, never one the broker serves.
 */
public record LogHead(long size, String timestamp, byte[] rootHash, byte[] signature) {

    public static LogHead of(SignedTreeHead head) {
        return new LogHead(head.size(), head.timestamp().toString(), head.rootHash(), head.signature());
    }

    /**
     * The head as the transparency module checks it.
     *
     * @throws IllegalArgumentException if a field is missing or malformed
     */
    public SignedTreeHead toTreeHead() {
        if (timestamp == null || rootHash == null || signature == null || signature.length > 256) {
            throw new IllegalArgumentException("a log head has size, timestamp, root_hash and a signature of at most 256 bytes");
        }
        return new SignedTreeHead(size, Instant.parse(timestamp), rootHash, signature);
    }
}
