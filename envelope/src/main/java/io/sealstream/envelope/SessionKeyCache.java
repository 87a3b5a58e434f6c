package io.sealstream.envelope;

import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The worker's cache of unwrapped session DEKs: bounded (least recently used entries go first) and
 * with a time-to-live, so steady-state cost per record is HKDF and AES-GCM, not an HPKE decap.
 *
 * <p>An entry is found only when topic, client, session, key id <em>and</em> the wrapped DEK bytes
 * all match, so a forged record that reuses a session id never receives a cached key. Evicted
 * and expired keys are zeroed. Thread-safe; callers receive copies they must destroy.
 */
public final class SessionKeyCache {
    private final int maxEntries;
    private final Duration ttl;
    private final Clock clock;
    private final LinkedHashMap<SessionRef, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long hits;
    private long misses;
    private long evictions;

    /**
     * A cache bounded by {@link EnvelopeDefaults#SESSION_CACHE_MAX_ENTRIES} and
     * {@link EnvelopeDefaults#SESSION_CACHE_TTL}, on the system clock.
     */
    public SessionKeyCache() {
        this(EnvelopeDefaults.SESSION_CACHE_MAX_ENTRIES, EnvelopeDefaults.SESSION_CACHE_TTL, Clock.systemUTC());
    }

    public SessionKeyCache(int maxEntries, Duration ttl, Clock clock) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("session-key cache size must be at least 1, got " + maxEntries);
        }
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("session-key cache TTL must be positive, got " + ttl);
        }
        this.maxEntries = maxEntries;
        this.ttl = ttl;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A copy of the cached DEK, or null when absent, expired or cached for other wrapped bytes. */
    synchronized DataKey get(SessionRef ref, byte[] wrappedDek) {
        Entry e = entries.get(ref);
        if (e == null) {
            misses++;
            return null;
        }
        if (!e.expiresAt.isAfter(clock.instant())) {
            entries.remove(ref);
            e.dek.destroy();
            evictions++;
            misses++;
            return null;
        }
        if (!MessageDigest.isEqual(e.wrappedDek, wrappedDek)) {
            misses++;
            return null;
        }
        hits++;
        return e.dek.copy();
    }

    /** Caches a copy of {@code dek}; the caller keeps ownership of its own instance. */
    synchronized void put(SessionRef ref, byte[] wrappedDek, DataKey dek) {
        Instant now = clock.instant();
        Entry old = entries.put(ref, new Entry(wrappedDek.clone(), dek.copy(), now.plus(ttl)));
        if (old != null) {
            old.dek.destroy();
        }
        // expired keys are zeroed when a new session arrives, not only when looked up again
        entries.values().removeIf(e -> {
            if (!e.expiresAt.isAfter(now)) {
                e.dek.destroy();
                evictions++;
                return true;
            }
            return false;
        });
        Iterator<Map.Entry<SessionRef, Entry>> it = entries.entrySet().iterator();
        while (entries.size() > maxEntries && it.hasNext()) {
            it.next().getValue().dek.destroy();
            it.remove();
            evictions++;
        }
    }

    /** Number of cached sessions. */
    public synchronized int size() {
        return entries.size();
    }

    /** Lookups that found a usable key. */
    public synchronized long hits() {
        return hits;
    }

    /** Lookups that had to unwrap. */
    public synchronized long misses() {
        return misses;
    }

    /** Entries dropped for size or age. */
    public synchronized long evictions() {
        return evictions;
    }

    /** Drops and zeroes every cached key, e.g. when the worker's keys are revoked. */
    public synchronized void clear() {
        entries.values().forEach(e -> e.dek.destroy());
        entries.clear();
    }

    @Override
    public synchronized String toString() {
        return "SessionKeyCache[size=" + entries.size() + "/" + maxEntries + ", ttl=" + ttl
                + ", hits=" + hits + ", misses=" + misses + ", evictions=" + evictions + "]";
    }

    /** What a cached DEK belongs to; the same tuple is bound in the HPKE context info. */
    record SessionRef(String topic, String clientId, String sessionId, long keyId) {
    }

    private record Entry(byte[] wrappedDek, DataKey dek, Instant expiresAt) {
    }
}
