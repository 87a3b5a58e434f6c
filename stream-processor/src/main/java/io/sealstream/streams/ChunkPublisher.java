package io.sealstream.streams;

import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedChunk;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the chunks of streamed answers to the clients' stream topics, outside the worker's
 * transactions (docs/streaming.md): a producer of its own, which no transaction uses, so a chunk is
 * readable as soon as it is written. Chunks are previews: a send that fails is counted and
 * dropped, never retried after the answer. Inference never waits for a send: {@link #send} puts
 * the chunk on a bounded queue (dropping it when the queue is full) and a thread of the
 * publisher's own serializes (the registry) and sends it (the cluster); a stream topic a send
 * found missing or unreachable is skipped for a minute.
 */
public final class ChunkPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkPublisher.class);

    private final Producer<String, byte[]> producer;
    private final ConfluentAvroSerializer<EncryptedChunk> serializer;
    /** Topics a send found missing or unreachable, until when they are skipped: a send must not block inference again. */
    private final Map<String, Long> skippedUntil = new java.util.concurrent.ConcurrentHashMap<>();
    /** How long a stream topic that failed a send is skipped. */
    static final long SKIP_MILLIS = 60_000;

    /** Chunks waiting for the sending thread; beyond, chunks are dropped (the answers still come). */
    static final int QUEUE = 10_000;
    private final java.util.concurrent.BlockingQueue<Queued> queue = new java.util.concurrent.ArrayBlockingQueue<>(QUEUE);

    private record Queued(String topic, EncryptedChunk chunk) {
    }
    private final Thread sender;
    private volatile boolean closed;

    ChunkPublisher(Producer<String, byte[]> producer, ConfluentAvroSerializer<EncryptedChunk> serializer) {
        this.producer = producer;
        this.serializer = serializer;
        this.sender = new Thread(this::drain, "sealstream-chunk-publisher");
        sender.setDaemon(true);
        sender.start();
    }

    /** A publisher on the worker's Kafka connection ({@code config}'s servers and security). */
    public static ChunkPublisher create(StreamProcessorConfig config, SchemaRegistryClient registry) {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        if (config.kafkaSecurity() != null) {
            p.putAll(config.kafkaSecurity().clientConfig());
        }
        p.put(ProducerConfig.CLIENT_ID_CONFIG, config.applicationId() + "-chunks");
        // a preview: one acknowledgement is enough, and nothing may wait long for it
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 1_000);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 5_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 4_000);
        return new ChunkPublisher(new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer()),
                new ConfluentAvroSerializer<>(registry, true));
    }

    /** Sends {@code chunk} to {@code topic}, keyed by its request id; failures are counted, not thrown. */
    void send(String topic, EncryptedChunk chunk) {
        if (!closed && !queue.offer(new Queued(topic, chunk))) {
            LOG.debug("stream.chunk.dropped request_id={} reason=queue_full", chunk.getRequestId());
        }
    }

    private void drain() {
        while (!closed || !queue.isEmpty()) {
            Queued next;
            try {
                next = queue.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (next != null) {
                publish(next.topic(), next.chunk());
            }
        }
    }

    private void publish(String topic, EncryptedChunk chunk) {
        Long until = skippedUntil.get(topic);
        if (until != null && until > System.currentTimeMillis()) {
            return;
        }
        try {
            byte[] bytes = serializer.serialize(topic, chunk);
            producer.send(new ProducerRecord<>(topic, chunk.getRequestId(), bytes), (meta, error) -> {
                if (error != null) {
                    failed(topic, chunk, error);
                }
            });
        } catch (RuntimeException e) {
            failed(topic, chunk, e);
        }
    }

    private void failed(String topic, EncryptedChunk chunk, Throwable error) {
        skippedUntil.put(topic, System.currentTimeMillis() + SKIP_MILLIS);
        LOG.info("stream.chunks.skipped topic={} request_id={} error={} seconds={}", topic, chunk.getRequestId(),
                error.getClass().getSimpleName(), SKIP_MILLIS / 1000);
    }

    @Override
    public void close() {
        closed = true;
        try {
            sender.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
        producer.close(java.time.Duration.ofSeconds(2));
    }
}
