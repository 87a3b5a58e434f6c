package io.sealstream.envelope;

/** Where a topic key is in its life: rotation demotes the primary, the end of grace retires it. */
public enum KeyState {
    /** New sessions wrap their DEK to this key. */
    PRIMARY,
    /** No longer primary, still decrypts in-flight records until its grace period ends. */
    DECRYPT_ONLY,
    /** Grace over; the private key is destroyed and records sealed to it are refused. */
    RETIRED,
    /** The topic never had this key id. */
    UNKNOWN
}
