package io.sealstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;

/** Topic limits come from the real broker; made-up topics cost one listing per interval, not a call each. */
@EmbeddedStack(registry = false)
class AdminTopicDirectoryTest {
    private static final int OVERHEAD = RecordLimits.RECORD_OVERHEAD_BYTES;

    @Test
    void aTopicsLimitIsItsMaxMessageBytesLessTheOverhead(EmbeddedKafka kafka) {
        kafka.createTopics(1, List.of("dir.eight"), Map.of("max.message.bytes", Integer.toString(8 << 20)));
        kafka.createTopics(1, List.of("dir.default"));
        try (AdminTopicDirectory topics = new AdminTopicDirectory(kafka.admin(), RecordLimits.PRODUCER_MAX_REQUEST_BYTES,
                Clock.systemUTC())) {
            assertThat(topics.maxValueBytes("dir.eight")).hasValue((8 << 20) - OVERHEAD);
            // the broker's message.max.bytes default: 1 MiB plus 12 bytes of batch overhead
            assertThat(topics.maxValueBytes("dir.default")).hasValue(1_048_588 - OVERHEAD);
        }
    }

    @Test
    void theProducersMaxRequestSizeCapsALargerTopic(EmbeddedKafka kafka) {
        kafka.createTopics(1, List.of("dir.huge"), Map.of("max.message.bytes", Integer.toString(64 << 20)));
        try (AdminTopicDirectory topics = new AdminTopicDirectory(kafka.admin(), RecordLimits.PRODUCER_MAX_REQUEST_BYTES,
                Clock.systemUTC())) {
            assertThat(topics.maxValueBytes("dir.huge")).hasValue(RecordLimits.PRODUCER_MAX_REQUEST_BYTES - OVERHEAD);
        }
    }

    @Test
    void aThousandMadeUpTopicsCostOneListingAndANewTopicIsFoundAfterTheListingInterval(EmbeddedKafka kafka) {
        AtomicInteger listings = new AtomicInteger();
        Admin real = kafka.admin();
        Admin counting = (Admin) Proxy.newProxyInstance(Admin.class.getClassLoader(), new Class<?>[] {Admin.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("listTopics")) {
                        listings.incrementAndGet();
                    }
                    return method.invoke(real, args);
                });
        Instant[] now = {Instant.parse("2026-11-30T12:00:00Z")};
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        try (AdminTopicDirectory topics = new AdminTopicDirectory(counting, RecordLimits.PRODUCER_MAX_REQUEST_BYTES, clock)) {
            for (int i = 0; i < 1000; i++) {
                assertThat(topics.maxValueBytes("sealstream.responses.ghost-" + i)).isEmpty();
            }
            assertThat(listings).hasValue(1);

            kafka.createTopics(1, List.of("sealstream.responses.late"));
            assertThat(topics.maxValueBytes("sealstream.responses.late")).as("within the listing interval").isEmpty();
            now[0] = now[0].plus(AdminTopicDirectory.LISTING_TTL).plus(Duration.ofMillis(1));

            assertThat(topics.maxValueBytes("sealstream.responses.late")).isPresent();
            assertThat(listings).hasValue(2);
        }
    }
}
