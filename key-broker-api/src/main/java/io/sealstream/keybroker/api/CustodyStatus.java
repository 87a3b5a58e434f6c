package io.sealstream.keybroker.api;

/**
 * {@code GET /v1/custody}: how this broker holds its root ({@code dev}, {@code peer},
 * {@code recovery}), whether it serves keys ({@code ready}) or waits for the owner
 * ({@code awaiting_recovery}), and the root's public id (empty while awaiting recovery).
 */
public record CustodyStatus(String mode, String state, String rootId) {
    public static final String READY = "ready";
    public static final String AWAITING_RECOVERY = "awaiting_recovery";
}
