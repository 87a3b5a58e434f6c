package io.sealstream.envelope;

import java.time.Duration;

/**
 * Every default of envelope v1 in one place (docs/protocol.md). The services that configure the
 * envelope (key broker, worker, client SDK) name their settings after these and fall back to them.
 */
public final class EnvelopeDefaults {
    /** How long a topic key is primary before the key broker rotates it. */
    public static final Duration ROTATION_INTERVAL = Duration.ofHours(1);
    /** How long a demoted key still decrypts in-flight records before it is destroyed. */
    public static final Duration GRACE = Duration.ofHours(2);
    /** How long a client session's DEK seals requests; renewed before the key's rotation. */
    public static final Duration SESSION_LIFETIME = Duration.ofMinutes(45);
    /** How many requests one session DEK may seal. */
    public static final long SESSION_MAX_RECORDS = 1_000_000;
    /**
     * The oldest request a worker opens. A record older than one key life plus grace could not be
     * opened anyway, since its key is destroyed by then.
     */
    public static final Duration MAX_REQUEST_AGE = ROTATION_INTERVAL.plus(GRACE);
    /** Sessions whose DEK a worker keeps unwrapped. */
    public static final int SESSION_CACHE_MAX_ENTRIES = 10_000;
    /** How long a worker keeps an unwrapped DEK: a session lifetime plus margin. */
    public static final Duration SESSION_CACHE_TTL = Duration.ofMinutes(60);

    private EnvelopeDefaults() {
    }
}
