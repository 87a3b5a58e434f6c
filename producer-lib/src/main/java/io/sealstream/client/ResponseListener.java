package io.sealstream.client;

import io.sealstream.schemas.registry.SchemaRegistryException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one of the client's own topics from its end, committed records only: its response topic,
 * or its stream topic (chunks of streamed answers). Partitions are assigned directly (no consumer
 * group), and the listener is ready only once every partition's end position is known, so no
 * record for a request sent afterwards can be missed.
 */
final class ResponseListener<T> implements Runnable, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ResponseListener.class);
    /** How long the listener waits before reading a record again whose schema the registry could not give. */
    static final Duration REGISTRY_RETRY = Duration.ofSeconds(1);

    private final KafkaConsumer<String, T> consumer;
    private final String topic;
    private final Consumer<T> sink;
    private final Consumer<RuntimeException> onStopped;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile RuntimeException failure;

    ResponseListener(String bootstrapServers, String topic, Deserializer<T> values,
                     Map<String, Object> overrides, Consumer<T> sink,
                     Consumer<RuntimeException> onStopped) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.CLIENT_ID_CONFIG, "sealstream-client-responses-" + topic));
        config.putAll(overrides);
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new SafeDeserializer<>(values));
        this.topic = topic;
        this.sink = sink;
        this.onStopped = onStopped;
        this.thread = new Thread(this, "sealstream-responses-" + topic);
        thread.setDaemon(true);
    }

    /** Starts reading and waits until the end of every partition is known. */
    void start(Duration timeout) {
        thread.start();
        try {
            if (!ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new KeyUnavailableException("the response topic '" + topic + "' was not readable within "
                        + timeout.toSeconds() + " s; check that it exists (it is created when the client is provisioned)", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeyUnavailableException("interrupted while opening the response topic", e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void run() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new KeyUnavailableException("the response topic '" + topic + "' does not exist; provision the client", null);
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            ready.countDown();
            while (running) {
                ConsumerRecords<String, T> records;
                try {
                    records = consumer.poll(Duration.ofMillis(100));
                } catch (RecordDeserializationException e) {
                    // only a registry that is away gets here (SafeDeserializer skips bad records): the
                    // consumer stays at that record, so wait and read it again instead of losing an answer
                    LOG.warn("client.responses.waiting topic={} partition={} offset={} on=registry",
                            topic, e.topicPartition().partition(), e.offset());
                    sleep(REGISTRY_RETRY);
                    continue;
                }
                for (ConsumerRecord<String, T> r : records) {
                    if (r.value() == null) {
                        continue;
                    }
                    try {
                        sink.accept(r.value());
                    } catch (RuntimeException e) {
                        // one record must not end the listener: every other answer would be lost
                        LOG.warn("client.response.failed topic={} partition={} offset={} error={}", topic,
                                r.partition(), r.offset(), e.getClass().getSimpleName());
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException | Error e) {
            // an Error too: whatever ends this thread must fail the pending requests, not leave them to time out
            failure = e instanceof SealstreamException se ? se : new ResponsesUnavailableException(topic, e);
            LOG.error("client.responses.failed topic={} error={}", topic, e.getClass().getSimpleName());
            ready.countDown();
            if (running) {
                onStopped.accept(failure);
            }
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Why the listener stopped, or null while it runs. */
    RuntimeException failure() {
        return failure;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A record that does not decode is logged and skipped: it cannot be anyone's answer (a genuine
     * answer always decodes). A registry that is away is different: the answer may be genuine, so
     * that failure passes to the poll loop, which waits and reads the record again.
     */
    private static final class SafeDeserializer<V> implements Deserializer<V> {
        private final Deserializer<V> inner;

        SafeDeserializer(Deserializer<V> inner) {
            this.inner = inner;
        }

        @Override
        public V deserialize(String topic, byte[] data) {
            try {
                return inner.deserialize(topic, data);
            } catch (SchemaRegistryException e) {
                if (e.isTransient()) {
                    throw e;
                }
                LOG.warn("client.response.undecodable topic={} error={}", topic, e.getClass().getSimpleName());
                return null;
            } catch (RuntimeException e) {
                LOG.warn("client.response.undecodable topic={} error={}", topic, e.getClass().getSimpleName());
                return null;
            }
        }
    }
}
