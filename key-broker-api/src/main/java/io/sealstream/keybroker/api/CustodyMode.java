package io.sealstream.keybroker.api;

import java.util.Arrays;

/**
 * How a key broker holds its root secret, as its evidence states to clients (ARCHITECTURE.md §6).
 * Only {@link #DEV} keeps it where the host can read it; a strict client refuses such a broker.
 */
public enum CustodyMode {
    /** In a file in the data directory: the simulated stack only, behind an explicit insecure flag. */
    DEV("dev"),
    /** Taken from a running replica, sealed to this replica's attested TEE key. */
    PEER("peer"),
    /** Escrowed to the owner's recovery key named in the policy; returned by the owner after a full outage. */
    RECOVERY("recovery");

    private final String id;

    CustodyMode(String id) {
        this.id = id;
    }

    /** The name on the wire and in evidence. */
    public String id() {
        return id;
    }

    /** Whether the root never leaves TEE memory unsealed. */
    public boolean isSealed() {
        return this != DEV;
    }

    public static CustodyMode fromId(String id) {
        return Arrays.stream(values()).filter(m -> m.id.equals(id)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown custody mode '" + id + "'; expected dev, peer or recovery"));
    }
}
