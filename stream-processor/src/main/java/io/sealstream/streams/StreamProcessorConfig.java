package io.sealstream.streams;

import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Settings of the worker's stream processor, with their defaults (docs/operations.md). Built with
 * {@link #builder()}; {@link #streamsProperties()} derives the Kafka Streams configuration, which
 * always uses {@code exactly_once_v2}.
 */
public final class StreamProcessorConfig {
    /**
     * Default request topic family: each client sends to {@code sealstream.requests.<client_id>},
     * and the family's name is also the name of the HPKE keyset they share.
     */
    public static final String DEFAULT_REQUEST_TOPIC_FAMILY = io.sealstream.envelope.EnvelopeProtocol.REQUEST_TOPIC_FAMILY;
    /**
     * How often workers look for new request topics (the consumer's {@code metadata.max.age.ms}):
     * a client provisioned while workers run is served within this plus a rebalance.
     */
    public static final Duration DEFAULT_TOPIC_DISCOVERY = Duration.ofSeconds(10);
    /** Default dead-letter topic for records that cannot be answered. */
    public static final String DEFAULT_DLQ_TOPIC = KafkaNames.DEFAULT_DLQ_TOPIC;
    /** Default Kafka Streams application id: every worker of one deployment shares it. */
    public static final String DEFAULT_APPLICATION_ID = KafkaNames.DEFAULT_WORKER_APPLICATION_ID;
    /** Default most requests per batch. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;
    /** Default longest wait before a partial batch is flushed. */
    public static final Duration DEFAULT_BATCH_LINGER = Duration.ofMillis(100);
    /**
     * Default most work per batch, in the handler's units (one per embedded text or chat token):
     * 4,096 MiniLM texts take about 5 s on two cores, far inside the transaction timeout.
     */
    public static final long DEFAULT_MAX_BATCH_COST = 4096;
    /**
     * Default commit interval: answers reach clients when their transaction commits, so this bounds
     * the latency a commit adds, while every commit costs the broker transaction markers on each
     * partition written (docs/operations.md has the measurement behind the value).
     */
    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofMillis(25);
    /**
     * The commit interval for a replicated cluster (replication factor 3), where a commit waits for
     * its markers on every replica: 200 ms served 2.7 times the requests of 25 ms with a third of
     * the median latency under load, 500 ms hardly more, 1,000 ms less ('sealstream bench
     * replicated', docs/operations.md). The deployments' worker configs set it.
     */
    public static final Duration REPLICATED_COMMIT_INTERVAL = Duration.ofMillis(200);
    /**
     * Changelog offsets (not entries: tombstones and aborted transactions count too) a worker may
     * still have to restore for a task and yet take it over at once, a restore of seconds. A
     * request costs about three: its buffer tombstone, its replay-guard entry and that entry's
     * purge, so this covers a task that answered up to about 30 requests/s over max-request-age
     * (3 h). A busier task moves to a new worker once it warmed up as a standby, at the next
     * probing rebalance.
     */
    static final long ACCEPTABLE_RECOVERY_LAG = 1_000_000;
    /**
     * The longest a stream thread waits in poll for new records before it punctuates. Finished
     * answers are sealed and sent by a punctuation, so while nothing new arrives (a client with
     * few requests in flight waits for its answers) Kafka Streams' default, 100 ms, was added to
     * every answer: 256 in flight gave 2,084 requests/s at p50 120 ms, 5 ms gives 5,163 at 49 ms
     * (docs/operations.md). An idle thread wakes 200 times a second; its fetches stay as they were.
     */
    static final Duration POLL = Duration.ofMillis(5);
    /** How soon a warmed-up standby takes its task over; Kafka Streams' smallest allowed value. */
    static final Duration PROBING_REBALANCE_INTERVAL = Duration.ofMinutes(1);
    /**
     * Default transaction timeout. A stream thread holds its transaction open while it waits for room at the
     * batcher (at most half of this), which takes a batch or two; Kafka Streams' own default (10 s) is too
     * short for generation.
     */
    public static final Duration DEFAULT_TRANSACTION_TIMEOUT = Duration.ofMinutes(5);

    private final String applicationId;
    private final String bootstrapServers;
    private final String requestTopicFamily;
    private final String dlqTopic;
    private final int maxBatchSize;
    private final long maxBatchCost;
    private final Duration batchLinger;
    private final Path stateDir;
    private final int streamThreads;
    private final Duration transactionTimeout;
    private final Duration commitInterval;
    private final KafkaSecurity kafkaSecurity;
    private final Map<String, Object> overrides;

    private StreamProcessorConfig(Builder b) {
        this.kafkaSecurity = b.kafkaSecurity;
        this.applicationId = b.applicationId;
        this.bootstrapServers = b.bootstrapServers;
        this.requestTopicFamily = b.requestTopicFamily;
        this.dlqTopic = b.dlqTopic;
        this.maxBatchSize = b.maxBatchSize;
        this.maxBatchCost = b.maxBatchCost;
        this.batchLinger = b.batchLinger;
        this.stateDir = b.stateDir;
        this.streamThreads = b.streamThreads;
        this.transactionTimeout = b.transactionTimeout;
        this.commitInterval = b.commitInterval;
        this.overrides = Map.copyOf(b.overrides);
        refuseOwnedOverrides();
    }

    /** Why some of the settings this config owns cannot be overridden, and what sets them instead. */
    private static final Map<String, String> OWNED_BECAUSE = Map.of(
            StreamsConfig.PROCESSING_GUARANTEE_CONFIG, "workers always run exactly-once v2",
            "security.protocol", "the Kafka connection's security comes from the worker's kafka.* settings",
            StreamsConfig.APPLICATION_ID_CONFIG, "it follows from the worker pool",
            StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "set the bootstrap servers setting",
            StreamsConfig.STATE_DIR_CONFIG, "set the state directory setting",
            ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "set the transaction timeout setting",
            ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, "it follows from the transaction timeout setting",
            StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "set the commit interval setting");
    /**
     * Settings this config leaves at Kafka's defaults on purpose and that would break the failure
     * rule if changed: an exception handler that logs and continues commits input without an
     * answer; the others undo exactly-once.
     */
    private static final java.util.Set<String> ALSO_OWNED = java.util.Set.of(
            StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG,
            StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
            "default.deserialization.exception.handler", "default.production.exception.handler",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ProducerConfig.ACKS_CONFIG, ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    private static final java.util.regex.Pattern CLIENT_PREFIX = java.util.regex.Pattern.compile(
            "^(main\\.consumer\\.|restore\\.consumer\\.|global\\.consumer\\.|consumer\\.|producer\\.|admin\\.)");

    public static Builder builder() {
        return new Builder();
    }

    /** The Kafka Streams configuration: exactly-once v2, loopback-safe defaults, then overrides. */
    public Properties streamsProperties() {
        Properties p = ownProperties();
        p.putAll(overrides);
        return p;
    }

    /** What this config sets itself: every key of it is refused as an override. */
    private Properties ownProperties() {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, streamThreads);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitInterval.toMillis());
        p.put(StreamsConfig.POLL_MS_CONFIG, POLL.toMillis());
        // scaling out: a worker's state is a buffer of in-flight requests and the replay guard, so a
        // new worker may take its share at once and restore it, rather than warm up as a standby and
        // wait for a probing rebalance (Kafka Streams' default: 10 min) before serving
        p.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, ACCEPTABLE_RECOVERY_LAG);
        p.put(StreamsConfig.PROBING_REBALANCE_INTERVAL_MS_CONFIG, (int) PROBING_REBALANCE_INTERVAL.toMillis());
        p.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
                (int) transactionTimeout.toMillis());
        // a stream thread blocked by back-pressure waits for a batch; a shorter poll interval would evict it
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG),
                (int) transactionTimeout.toMillis());
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG),
                (int) DEFAULT_TOPIC_DISCOVERY.toMillis());
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), RecordLimits.PRODUCER_MAX_REQUEST_BYTES);
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, SendFailureHandler.class.getName());
        p.putAll(kafkaSecurity.clientConfig());
        return p;
    }

    /** Refuses an override of a setting this config owns, naming it and what sets it instead. */
    private void refuseOwnedOverrides() {
        java.util.Set<String> own = new java.util.HashSet<>(ALSO_OWNED);
        ownProperties().keySet().forEach(k -> own.add(CLIENT_PREFIX.matcher(k.toString()).replaceFirst("")));
        for (String key : overrides.keySet()) {
            String bare = CLIENT_PREFIX.matcher(key).replaceFirst("");
            if (own.contains(bare) || bare.startsWith("sasl.") || bare.startsWith("ssl.")) {
                throw new IllegalArgumentException("the Kafka Streams setting " + key + " cannot be overridden: "
                        + OWNED_BECAUSE.getOrDefault(bare, bare.startsWith("sasl.") || bare.startsWith("ssl.")
                        ? OWNED_BECAUSE.get("security.protocol") : "the worker sets it itself (the failure rule depends on it)"));
            }
        }
    }

    /**
     * {@link #streamsProperties()} with the {@link TopicDirectory} that the send failure handler
     * asks whether a topic still exists.
     */
    public Properties streamsProperties(TopicDirectory topics) {
        Properties p = streamsProperties();
        p.put(SendFailureHandler.TOPIC_DIRECTORY_CONFIG, Objects.requireNonNull(topics, "topics"));
        return p;
    }

    public String applicationId() {
        return applicationId;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String requestTopicFamily() {
        return requestTopicFamily;
    }

    /** How the workers log in to Kafka. */
    public KafkaSecurity kafkaSecurity() {
        return kafkaSecurity;
    }

    public String dlqTopic() {
        return dlqTopic;
    }

    public int maxBatchSize() {
        return maxBatchSize;
    }

    /** Most work per batch; see {@link BatchHandler#cost}. */
    public long maxBatchCost() {
        return maxBatchCost;
    }

    public Duration batchLinger() {
        return batchLinger;
    }

    /**
     * How long a transaction may stay open; a stream thread waits for room at the batcher at most
     * half of it, and a batch that runs twice as long means a hung engine.
     */
    public Duration transactionTimeout() {
        return transactionTimeout;
    }

    /** How often answered requests commit. */
    public Duration commitInterval() {
        return commitInterval;
    }

    public Path stateDir() {
        return stateDir;
    }

    @Override
    public String toString() {
        return "StreamProcessorConfig[applicationId=" + applicationId + ", requestTopicFamily=" + requestTopicFamily
                + ", dlqTopic=" + dlqTopic + ", maxBatchSize=" + maxBatchSize + ", maxBatchCost=" + maxBatchCost + ", batchLinger=" + batchLinger
                + ", streamThreads=" + streamThreads + ", kafka=" + kafkaSecurity + "]";
    }

    /** Builder of {@link StreamProcessorConfig}; bootstrap servers and state dir are required. */
    public static final class Builder {
        private String applicationId = DEFAULT_APPLICATION_ID;
        private String bootstrapServers;
        private String requestTopicFamily = DEFAULT_REQUEST_TOPIC_FAMILY;
        private String dlqTopic = DEFAULT_DLQ_TOPIC;
        private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
        private long maxBatchCost = DEFAULT_MAX_BATCH_COST;
        private Duration batchLinger = DEFAULT_BATCH_LINGER;
        private Path stateDir;
        private int streamThreads = 1;
        private Duration transactionTimeout = DEFAULT_TRANSACTION_TIMEOUT;
        private Duration commitInterval = DEFAULT_COMMIT_INTERVAL;
        private final Map<String, Object> overrides = new HashMap<>();
        private KafkaSecurity kafkaSecurity = KafkaSecurity.plaintext();

        private Builder() {
        }

        /**
         * How the workers log in: SASL_SSL as the workers' principal in every deployment (default
         * PLAINTEXT, which a secured cluster refuses; for topology tests and benchmarks).
         */
        public Builder kafkaSecurity(KafkaSecurity kafkaSecurity) {
            this.kafkaSecurity = Objects.requireNonNull(kafkaSecurity, "kafkaSecurity");
            return this;
        }

        public Builder applicationId(String applicationId) {
            this.applicationId = applicationId;
            return this;
        }

        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        public Builder requestTopicFamily(String requestTopicFamily) {
            this.requestTopicFamily = requestTopicFamily;
            return this;
        }

        public Builder dlqTopic(String dlqTopic) {
            this.dlqTopic = dlqTopic;
            return this;
        }

        /** Flush a batch once it holds this many requests; default {@value #DEFAULT_MAX_BATCH_SIZE}. */
        public Builder maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        /**
         * Admit requests into one batch until their costs reach this; a request that alone costs more
         * is refused with {@code request_too_large}. Default {@value #DEFAULT_MAX_BATCH_COST}.
         */
        public Builder maxBatchCost(long maxBatchCost) {
            this.maxBatchCost = maxBatchCost;
            return this;
        }

        /** Flush a partial batch this long after its first request arrived; default 100 ms. */
        public Builder batchLinger(Duration batchLinger) {
            this.batchLinger = batchLinger;
            return this;
        }

        /** Where Kafka Streams keeps its state stores (which hold ciphertext only). */
        public Builder stateDir(Path stateDir) {
            this.stateDir = stateDir;
            return this;
        }

        public Builder streamThreads(int streamThreads) {
            this.streamThreads = streamThreads;
            return this;
        }

        /**
         * How long a transaction may stay open; a stream thread waits for room at the batcher at
         * most half of it, and a batch that runs twice as long means a hung engine. Default 5 min.
         */
        public Builder transactionTimeout(Duration transactionTimeout) {
            this.transactionTimeout = transactionTimeout;
            return this;
        }

        /** How often answered requests commit (and so reach their clients); default 25 ms. */
        public Builder commitInterval(Duration commitInterval) {
            this.commitInterval = commitInterval;
            return this;
        }

        /**
         * Any Kafka Streams, consumer, producer or admin setting, applied last; except those this
         * config sets itself (the processing guarantee, the exception handlers, the offset reset,
         * the connection's security and every other setting {@link #streamsProperties()} writes):
         * those are the failure rule's premises or have settings of their own, and
         * {@link #build()} refuses an override of them.
         */
        public Builder streamsConfig(String key, Object value) {
            overrides.put(key, value);
            return this;
        }

        public StreamProcessorConfig build() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("the stream processor needs bootstrap servers");
            }
            Objects.requireNonNull(stateDir, "the stream processor needs a state directory");
            if (maxBatchSize < 1) {
                throw new IllegalArgumentException("max batch size must be at least 1, got " + maxBatchSize);
            }
            if (maxBatchCost < 1) {
                throw new IllegalArgumentException("max batch cost must be at least 1, got " + maxBatchCost);
            }
            if (batchLinger.isNegative() || batchLinger.isZero()) {
                throw new IllegalArgumentException("batch linger must be positive, got " + batchLinger);
            }
            if (commitInterval.isNegative() || commitInterval.isZero()) {
                throw new IllegalArgumentException("commit interval must be positive, got " + commitInterval);
            }
            if (streamThreads < 1) {
                throw new IllegalArgumentException("stream threads must be at least 1, got " + streamThreads);
            }
            return new StreamProcessorConfig(this);
        }
    }
}
