package io.sealstream.streams;

import io.sealstream.envelope.RequestOpener;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.util.Objects;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The worker's Kafka Streams topology:
 *
 * <pre>
 * requests (bytes) -> batcher [request-buffer store, changelogged ciphertext]
 *                        |-> responses: sealstream.responses.&lt;client_id&gt; (EncryptedResponse)
 *                        '-> dlq: original bytes + reason headers
 * </pre>
 *
 * Values are read as bytes and decoded inside the batcher, so a record that is not an envelope
 * becomes a dead letter instead of stopping the stream.
 */
public final class InferenceTopology {
    static final String SOURCE = "requests";
    static final String BATCHER = "batcher";
    static final String RESPONSE_SINK = "responses";
    static final String DLQ_SINK = "dlq";
    /** The state store that buffers ciphertext until its batch flushes. */
    public static final String BUFFER_STORE = "request-buffer";

    private InferenceTopology() {
    }

    /**
     * The topology for {@code config}: requests are opened by {@code opener}, inferred by
     * {@code handler}, and serialized against {@code registry}.
     */
    public static Topology build(StreamProcessorConfig config, RequestOpener opener, BatchHandler handler,
                                 SchemaRegistryClient registry) {
        Objects.requireNonNull(opener, "opener");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(registry, "registry");
        ConfluentAvroDeserializer<EncryptedRequest> requests = new ConfluentAvroDeserializer<>(EncryptedRequest.class, registry);
        Topology topology = new Topology();
        topology.addSource(SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), config.requestTopic());
        topology.addProcessor(BATCHER, () -> new BatchingProcessor(opener, handler, requests,
                config.maxBatchSize(), config.batchLinger()), SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(BUFFER_STORE), Serdes.String(), Serdes.ByteArray()), BATCHER);
        topology.addSink(RESPONSE_SINK, new ResponseRouter(), new StringSerializer(),
                new ConfluentAvroSerializer<EncryptedResponse>(registry, true), BATCHER);
        topology.addSink(DLQ_SINK, config.dlqTopic(), new StringSerializer(), new ByteArraySerializer(), BATCHER);
        return topology;
    }
}
