package io.sealstream.tenancy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.quota.ClientQuotaEntity;

/**
 * The broker-enforced share of one client principal: bytes per second it may produce and fetch,
 * and the share of broker request-handling time it may take. The broker delays a principal that
 * goes over, so one tenant's flood cannot starve the others.
 *
 * @param produceBytesPerSecond {@code producer_byte_rate}
 * @param fetchBytesPerSecond {@code consumer_byte_rate}
 * @param requestPercentage {@code request_percentage}: percent of one broker network and I/O thread
 */
public record ClientQuota(long produceBytesPerSecond, long fetchBytesPerSecond, double requestPercentage) {
    /**
     * Default: 4 MiB/s of requests in (a few thousand embedding texts per second), 32 MiB/s of
     * answers out (vectors are about 1.5 KiB each), half of one broker thread.
     */
    public static final ClientQuota DEFAULT = new ClientQuota(4L << 20, 32L << 20, 50.0);

    /**
     * The key broker's principal: audit events are a few hundred bytes, a few a second, but the
     * topic keeps everything, so whoever holds the credential (it lives outside the TEE) cannot
     * fill the brokers' disks fast: 64 KiB/s in, 4 MiB/s out (reading its chain's tail back).
     */
    public static final ClientQuota KEY_BROKER = new ClientQuota(64L << 10, 4L << 20, 10.0);

    public ClientQuota {
        if (produceBytesPerSecond <= 0 || fetchBytesPerSecond <= 0 || requestPercentage <= 0) {
            throw new IllegalArgumentException("quotas must be positive: produce " + produceBytesPerSecond
                    + " B/s, fetch " + fetchBytesPerSecond + " B/s, request " + requestPercentage + " %");
        }
    }

    /** Kafka's quota keys and values. */
    public Map<String, Double> asKafkaQuotas() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("producer_byte_rate", (double) produceBytesPerSecond);
        m.put("consumer_byte_rate", (double) fetchBytesPerSecond);
        m.put("request_percentage", requestPercentage);
        return m;
    }

    /** Reads Kafka's quota values back; missing keys keep {@link #DEFAULT}'s. */
    public static ClientQuota fromKafkaQuotas(Map<String, Double> q) {
        return new ClientQuota(q.getOrDefault("producer_byte_rate", (double) DEFAULT.produceBytesPerSecond).longValue(),
                q.getOrDefault("consumer_byte_rate", (double) DEFAULT.fetchBytesPerSecond).longValue(),
                q.getOrDefault("request_percentage", DEFAULT.requestPercentage));
    }

    /** The quota entity of a SCRAM user. */
    static ClientQuotaEntity entityOf(String user) {
        return new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, user));
    }
}
