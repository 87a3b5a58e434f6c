package io.sealstream.envelope;

/** Where a topic key is in its life: rotation demotes the primary, the end of grace retires it. */
public enum KeyState {
    /** New sessions wrap their DEK to this key. */
    PRIMARY,
    /**
     * Published to workers ahead of clients: decrypts, but no client wraps to it until it becomes
     * the primary at the next rotation, by when every worker that refreshes on time holds it.
     */
    PENDING,
    /** No longer primary, still decrypts in-flight records until its grace period ends. */
    DECRYPT_ONLY,
    /** Grace over; the private key is destroyed and records sealed to it are refused. */
    RETIRED,
    /** The topic never had this key id. */
    UNKNOWN
}
