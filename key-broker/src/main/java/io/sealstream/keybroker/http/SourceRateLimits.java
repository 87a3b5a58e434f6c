package io.sealstream.keybroker.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets per source ({@link #sourceOf}: an IPv4 address, an IPv6 /64): {@code perSecond}
 * requests a second on average, bursts of twice that. The table remembers the 10,000 most recently seen sources, so a flood from many
 * addresses costs bounded memory (an evicted source starts again with a full bucket).
 */
final class SourceRateLimits {
    private static final int MAX_SOURCES = 10_000;

    private final double perSecond;
    private final double burst;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    SourceRateLimits(double perSecond) {
        if (perSecond <= 0) {
            throw new IllegalArgumentException("a rate limit must be positive, got " + perSecond);
        }
        this.perSecond = perSecond;
        this.burst = 2 * perSecond;
    }

    /**
     * The source a call is counted against: an IPv4 address itself; for IPv6 its /64 prefix, since
     * one host commonly holds a whole /64 and would otherwise get a fresh bucket per address.
     */
    static String sourceOf(java.net.InetAddress address) {
        byte[] b = address.getAddress();
        if (b.length == 16) {
            return java.util.HexFormat.of().formatHex(b, 0, 8) + "::/64";
        }
        return address.getHostAddress();
    }

    /** Takes a token for {@code source}: 0 if allowed, else the seconds until one is free (at least 1). */
    synchronized long take(String source, long nowNanos) {
        Bucket b = buckets.computeIfAbsent(source, s -> new Bucket(burst, nowNanos));
        b.tokens = Math.min(burst, b.tokens + (nowNanos - b.updatedNanos) / 1e9 * perSecond);
        b.updatedNanos = nowNanos;
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - b.tokens) / perSecond));
    }

    double perSecond() {
        return perSecond;
    }

    private static final class Bucket {
        double tokens;
        long updatedNanos;

        Bucket(double tokens, long updatedNanos) {
            this.tokens = tokens;
            this.updatedNanos = updatedNanos;
        }
    }
}
