package io.sealstream.worker;

import io.sealstream.envelope.SessionKeyCache;
import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import io.sealstream.worker.engine.InferenceEngine;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The worker's own meters beside the stream processor's: the engines' load times, the session-key
 * cache, the lease and the consumer lag. The engines' item and token counts are
 * {@link EngineRouter}'s.
 */
final class WorkerMeters {
    /** Kafka's consumer metric of records behind the log end, per topic partition. */
    private static final String RECORDS_LAG = "records-lag";
    private static final String FETCH_MANAGER_GROUP = "consumer-fetch-manager-metrics";

    private final Meters meters;
    /** The latest lag per partition number, summed over request topics; read by the gauges. */
    private final Map<Integer, Double> lag = new ConcurrentHashMap<>();

    WorkerMeters(Meters meters) {
        this.meters = meters;
    }

    void engines(List<InferenceEngine> engines) {
        for (InferenceEngine engine : engines) {
            double seconds = engine.loadTime().toNanos() / 1e9;
            for (String model : engine.models()) {
                meters.gauge(SealstreamMeter.ENGINE_MODEL_LOAD, engine, e -> seconds, Meters.label(model));
            }
        }
    }

    void sessionKeys(SessionKeyCache cache) {
        meters.functionCounter(SealstreamMeter.WORKER_SESSION_KEYS, cache, SessionKeyCache::hits, "hit");
        meters.functionCounter(SealstreamMeter.WORKER_SESSION_KEYS, cache, SessionKeyCache::misses, "miss");
    }

    void lease(Supplier<Instant> expiresAt) {
        meters.gauge(SealstreamMeter.WORKER_LEASE_REMAINING, expiresAt, e -> {
            Instant at = e.get();
            return at == null ? 0 : Math.max(0, Duration.between(Instant.now(), at).toMillis() / 1000.0);
        });
    }

    /**
     * Reads the main consumers' lag of {@code streams} ({@code requestTopicPrefix}'s topics only),
     * sums it per partition number, and keeps one gauge per partition number ever owned; a
     * partition no longer owned reads 0.
     */
    void refreshLag(KafkaStreams streams, String requestTopicPrefix) {
        Map<Integer, Double> now = new java.util.HashMap<>();
        for (Map.Entry<MetricName, ? extends Metric> m : streams.metrics().entrySet()) {
            MetricName name = m.getKey();
            String topic = name.tags().get("topic");
            String partition = name.tags().get("partition");
            String client = name.tags().getOrDefault("client-id", "");
            if (!name.name().equals(RECORDS_LAG) || !name.group().equals(FETCH_MANAGER_GROUP) || topic == null
                    || partition == null || !topic.startsWith(requestTopicPrefix) || client.contains("restore")) {
                continue;
            }
            Object value = m.getValue().metricValue();
            if (value instanceof Number n && Double.isFinite(n.doubleValue())) {
                now.merge(Integer.parseInt(partition), n.doubleValue(), Double::sum);
            }
        }
        for (Integer partition : now.keySet()) {
            if (!lag.containsKey(partition)) {
                lag.put(partition, 0.0);
                meters.gauge(SealstreamMeter.WORKER_CONSUMER_LAG, lag, l -> l.getOrDefault(partition, 0.0),
                        Integer.toString(partition));
            }
        }
        lag.replaceAll((p, v) -> now.getOrDefault(p, 0.0));
    }
}
