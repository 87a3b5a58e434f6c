package io.sealstream.streams;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link TopicDirectory} that asks the Kafka cluster (Admin API) and remembers the answers. Which
 * topics exist comes from one topic listing, refreshed at most every {@link #LISTING_TTL} and only
 * when a topic is not in it: a flood of records for made-up clients costs one listing per interval,
 * not one call per record, and a new client is served at most that long after its topic is
 * created. An existing topic's limit ({@code DescribeConfigs}) is remembered for
 * {@link #FOUND_TTL}, at most {@link #MAX_ENTRIES} topics. Thread-safe.
 */
public final class AdminTopicDirectory implements TopicDirectory, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminTopicDirectory.class);
    /** How long an existing topic's limit is remembered. */
    public static final Duration FOUND_TTL = Duration.ofMinutes(5);
    /** How old the topic listing may be before a topic missing from it is looked for again. */
    public static final Duration LISTING_TTL = Duration.ofSeconds(10);
    /** Most topics remembered. */
    public static final int MAX_ENTRIES = 10_000;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    private final Admin admin;
    private final int producerMaxRequestBytes;
    private final Clock clock;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();
    private volatile java.util.Set<String> listing = java.util.Set.of();
    private volatile long listedAtMillis;
    private volatile TopicDirectoryUnavailableException listingFailure;

    private record Entry(OptionalInt maxValueBytes, long expiresAtMillis) {
    }

    AdminTopicDirectory(Admin admin, int producerMaxRequestBytes, Clock clock) {
        this.admin = admin;
        this.producerMaxRequestBytes = producerMaxRequestBytes;
        this.clock = clock;
    }

    /** A directory on the cluster the stream processor of {@code config} uses (same bootstrap and security settings). */
    public static AdminTopicDirectory forConfig(StreamProcessorConfig config) {
        Properties streams = config.streamsProperties();
        Properties adminProps = new Properties();
        for (String key : streams.stringPropertyNames()) {
            if (AdminClientConfig.configNames().contains(key) && !key.equals(AdminClientConfig.CLIENT_ID_CONFIG)) {
                adminProps.put(key, streams.get(key));
            }
        }
        streams.forEach((k, v) -> {
            String key = k.toString();
            if (key.startsWith("admin.")) {
                adminProps.put(key.substring("admin.".length()), v);
            }
        });
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        adminProps.put(AdminClientConfig.CLIENT_ID_CONFIG, config.applicationId() + "-topic-directory");
        return new AdminTopicDirectory(Admin.create(adminProps), RecordLimits.PRODUCER_MAX_REQUEST_BYTES, Clock.systemUTC());
    }

    @Override
    public OptionalInt maxValueBytes(String topic) {
        long now = clock.millis();
        Entry e = cache.get(topic);
        if (e != null && e.expiresAtMillis > now) {
            return e.maxValueBytes;
        }
        if (!listed(topic, now)) {
            return OptionalInt.empty();
        }
        OptionalInt limit = lookUp(topic);
        if (limit.isEmpty()) {
            // deleted since the listing: drop it, so the next record for it costs no call
            java.util.Set<String> without = new java.util.HashSet<>(listing);
            without.remove(topic);
            listing = java.util.Set.copyOf(without);
            return limit;
        }
        if (cache.size() >= MAX_ENTRIES) {
            evictExpiredOrAny(now);
        }
        cache.put(topic, new Entry(limit, now + FOUND_TTL.toMillis()));
        return limit;
    }

    /** Whether the listing has the topic, listing again first if it lacks it and is older than {@link #LISTING_TTL}. */
    private synchronized boolean listed(String topic, long now) {
        if (listing.contains(topic)) {
            return true;
        }
        if (now - listedAtMillis < LISTING_TTL.toMillis()) {
            if (listingFailure != null) {
                // the last listing failed: nothing is known, and asking again now would cost another timeout
                throw listingFailure;
            }
            return false;
        }
        listedAtMillis = now;
        try {
            listing = java.util.Set.copyOf(admin.listTopics().names().get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            listingFailure = null;
        } catch (ExecutionException e) {
            throw listingFailure = new TopicDirectoryUnavailableException("listing topics failed ("
                    + e.getCause().getClass().getSimpleName() + ")", e.getCause());
        } catch (TimeoutException e) {
            throw listingFailure = new TopicDirectoryUnavailableException("the cluster did not list its topics within "
                    + CALL_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopicDirectoryUnavailableException("interrupted while listing topics", e);
        }
        return listing.contains(topic);
    }

    /** Never blocks: it runs on the producer's I/O thread (SendFailureHandler). */
    @Override
    public void forget(String topic) {
        cache.remove(topic);
        listedAtMillis = 0; // the next question about a topic not listed lists again
    }

    /** The topic's own {@code max.message.bytes} (its override or the broker's default), or empty if it does not exist. */
    public OptionalInt topicMaxMessageBytes(String topic) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try {
            Config config = admin.describeConfigs(List.of(resource)).all()
                    .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(resource);
            ConfigEntry entry = config == null ? null : config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            if (entry == null || entry.value() == null) {
                throw new TopicDirectoryUnavailableException("the cluster described topic '" + topic
                        + "' without max.message.bytes; check the broker version", null);
            }
            return OptionalInt.of(Integer.parseInt(entry.value()));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return OptionalInt.empty();
            }
            throw new TopicDirectoryUnavailableException("describing topic '" + topic + "' failed ("
                    + e.getCause().getClass().getSimpleName() + ")", e.getCause());
        } catch (TimeoutException e) {
            throw new TopicDirectoryUnavailableException("the cluster did not describe topic '" + topic
                    + "' within " + CALL_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopicDirectoryUnavailableException("interrupted while describing topic '" + topic + "'", e);
        }
    }

    private OptionalInt lookUp(String topic) {
        OptionalInt topicMax = topicMaxMessageBytes(topic);
        if (topicMax.isEmpty()) {
            LOG.info("topic.missing topic={}", topic);
            return topicMax;
        }
        int limit = Math.min(topicMax.getAsInt(), producerMaxRequestBytes) - RecordLimits.RECORD_OVERHEAD_BYTES;
        return OptionalInt.of(Math.max(0, limit));
    }

    private void evictExpiredOrAny(long now) {
        cache.values().removeIf(e -> e.expiresAtMillis <= now);
        Iterator<String> it = cache.keySet().iterator();
        while (cache.size() >= MAX_ENTRIES && it.hasNext()) {
            it.next();
            it.remove();
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
