package io.sealstream.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.envelope.SessionKeyCache.SessionRef;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SessionKeyCacheTest {
    private final Fixtures.MovableClock clock = new Fixtures.MovableClock(Instant.parse("2026-11-24T10:00:00Z"));
    private final SessionKeyCache cache = new SessionKeyCache(2, Duration.ofMinutes(10), clock);
    private final byte[] wrapped = {1, 2, 3};

    @Test
    void aCachedKeyIsReturnedAsACopy() {
        DataKey dek = DataKey.random();
        cache.put(ref("s1"), wrapped, dek);

        DataKey found = cache.get(ref("s1"), wrapped);

        assertThat(found).isNotSameAs(dek);
        assertThat(found.material()).isEqualTo(dek.material());
        found.destroy();
        assertThat(cache.get(ref("s1"), wrapped).material()).as("destroying a copy leaves the cache intact")
                .isEqualTo(dek.material());
    }

    @Test
    void otherWrappedBytesForTheSameSessionMiss() {
        cache.put(ref("s1"), wrapped, DataKey.random());

        assertThat(cache.get(ref("s1"), new byte[] {1, 2, 4})).isNull();
    }

    @Test
    void theLeastRecentlyUsedEntryIsEvictedAndZeroed() {
        DataKey first = DataKey.random();
        cache.put(ref("s1"), wrapped, first);
        cache.put(ref("s2"), wrapped, DataKey.random());
        cache.get(ref("s1"), wrapped);
        cache.put(ref("s3"), wrapped, DataKey.random());

        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(ref("s2"), wrapped)).as("s2 was least recently used").isNull();
        assertThat(cache.get(ref("s1"), wrapped)).isNotNull();
        assertThat(cache.evictions()).isEqualTo(1);
    }

    @Test
    void entriesExpireAfterTheirTimeToLive() {
        cache.put(ref("s1"), wrapped, DataKey.random());
        clock.advance(Duration.ofMinutes(10));

        assertThat(cache.get(ref("s1"), wrapped)).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void clearDropsEverything() {
        cache.put(ref("s1"), wrapped, DataKey.random());
        cache.clear();

        assertThat(cache.size()).isZero();
    }

    @Test
    void aDestroyedKeyCannotBeUsed() {
        DataKey dek = DataKey.random();
        dek.destroy();

        assertThatThrownBy(dek::material).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void nonsensicalBoundsAreRejected() {
        assertThatThrownBy(() -> new SessionKeyCache(0, Duration.ofMinutes(1), clock))
                .hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new SessionKeyCache(1, Duration.ZERO, clock))
                .hasMessageContaining("must be positive");
    }

    private static SessionRef ref(String session) {
        return new SessionRef("t", "c", session, 7);
    }
}
