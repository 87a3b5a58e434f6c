package io.sealstream.streams;

import io.sealstream.envelope.RequestOpener;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The worker's Kafka Streams topology:
 *
 * <pre>
 * sealstream.requests.&lt;client&gt; (bytes, by pattern) -> batcher [request-buffer: changelogged ciphertext; answered-requests: replay guard]
 *                        |   (opened requests to the worker's EngineBatcher and back)
 *                        |-> responses: sealstream.responses.&lt;client_id&gt; (EncryptedResponse bytes)
 *                        '-> dlq: original bytes (bounded) + reason headers
 * </pre>
 *
 * Values are read as bytes and decoded inside the batcher, which also serializes its output, so
 * nothing a record carries can fail in a serde outside the batcher's checks.
 */
public final class InferenceTopology {
    static final String SOURCE = "requests";
    static final String BATCHER = "batcher";
    static final String RESPONSE_SINK = "responses";
    static final String DLQ_SINK = "dlq";
    /** The state store that buffers ciphertext until its batch flushes. */
    public static final String BUFFER_STORE = "request-buffer";
    /**
     * The answered requests (created_at and the SHA-256 of the record bytes), kept for
     * max-request-age plus the clock skew so a replayed record is not answered twice. Size bound:
     * one entry of about 70 bytes (plus the store's own overhead) per request answered in that
     * window, per task.
     */
    public static final String ANSWERED_STORE = "answered-requests";

    private InferenceTopology() {
    }

    /**
     * The topology for {@code config}: requests are opened by {@code opener}, batched with the
     * requests of the worker's other tasks by {@code batcher}, serialized against {@code registry},
     * and checked against the topics {@code topics} describes before they are sent; {@code keys}
     * is asked for a refresh when a record names a key id the worker does not hold, before that
     * record is called unknown.
     */
    public static Topology build(StreamProcessorConfig config, RequestOpener opener, EngineBatcher batcher,
                                 SchemaRegistryClient registry, TopicDirectory topics, KeyRefresh keys) {
        return build(config, opener, batcher, registry, topics, keys, null);
    }

    /**
     * As {@link #build(StreamProcessorConfig, RequestOpener, EngineBatcher, SchemaRegistryClient,
     * TopicDirectory, KeyRefresh)}, the text of requests that ask to stream going out through
     * {@code chunks} as it is generated (null: they are answered whole).
     */
    public static Topology build(StreamProcessorConfig config, RequestOpener opener, EngineBatcher batcher,
                                 SchemaRegistryClient registry, TopicDirectory topics, KeyRefresh keys,
                                 ChunkPublisher chunks) {
        Objects.requireNonNull(opener, "opener");
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(batcher, "batcher");
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(topics, "topics");
        ConfluentAvroDeserializer<EncryptedRequest> requests = new ConfluentAvroDeserializer<>(EncryptedRequest.class, registry);
        ConfluentAvroSerializer<EncryptedResponse> responses = new ConfluentAvroSerializer<>(registry, true);
        // a buffered request is its key and value plus 4 bytes; the changelog must take any request
        Map<String, String> changelog = Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                Integer.toString(RecordLimits.PRODUCER_MAX_REQUEST_BYTES));
        Topology topology = new Topology();
        // every client's request topic, <family>.<client_id>: partition p of each lands in task p,
        // so one batch spans clients. Within a task Kafka Streams takes next the partition whose head
        // record has the oldest timestamp; with the producer's timestamps, a tenant's backlog of old
        // records would go first, all of it, while every other tenant waits. Stamping each head
        // record when it reaches the head serves the task's partitions in turn instead.
        topology.addSource(org.apache.kafka.streams.AutoOffsetReset.earliest(), SOURCE,
                new org.apache.kafka.streams.processor.WallclockTimestampExtractor(),
                new StringDeserializer(), new ByteArrayDeserializer(),
                java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(config.requestTopicFamily() + ".")
                        + "[a-zA-Z0-9_-]+"));
        topology.addProcessor(BATCHER, () -> new BatchingProcessor(opener, batcher, requests, responses, topics, config, keys,
                chunks),
                SOURCE);
        // cached: a request answered within one commit interval leaves one tombstone in the
        // changelog instead of a copy and a tombstone, and never reaches RocksDB
        topology.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.String(), Serdes.ByteArray())
                .withLoggingEnabled(changelog).withCachingEnabled(), BATCHER);
        topology.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(ANSWERED_STORE), Serdes.String(), Serdes.Long())
                .withLoggingEnabled(Map.of()), BATCHER);
        topology.addSink(RESPONSE_SINK, new Outgoing.Router(), new StringSerializer(), new Outgoing.BytesSerializer(),
                BATCHER);
        topology.addSink(DLQ_SINK, config.dlqTopic(), new StringSerializer(), new Outgoing.BytesSerializer(), BATCHER);
        return topology;
    }
}
