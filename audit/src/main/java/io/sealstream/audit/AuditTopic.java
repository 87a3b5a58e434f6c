package io.sealstream.audit;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The audit topic as its writers and checkers use it: events in the Confluent wire format with
 * their schema in the registry, keyed by producer (so a producer's chain lies in one partition,
 * in order); reading a producer's last event back; reading every event in order.
 */
public final class AuditTopic {
    /** How far back from a partition's end the first look for a producer's last event reads. */
    private static final int TAIL = 500;
    /** How long reading may go without a record before the topic is called unreadable. */
    private static final Duration IDLE_LIMIT = Duration.ofSeconds(60);

    private final String topic;
    private final Map<String, Object> kafka;
    private final SchemaRegistryClient registry;

    /** {@code kafkaConfig}: bootstrap servers and the principal's security settings. */
    public AuditTopic(String topic, Map<String, Object> kafkaConfig, SchemaRegistryClient registry) {
        this.topic = topic;
        this.kafka = Map.copyOf(kafkaConfig);
        this.registry = registry;
    }

    public String name() {
        return topic;
    }

    /** A producer of events (idempotent, acknowledged by every in-sync replica); the caller closes it. */
    KafkaProducer<String, AuditEvent> producer(String producerName) {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // an event waits for Kafka however long it is down, rather than expiring into a gap in the chain
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.MAX_VALUE);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "sealstream-audit-" + producerName.replace('/', '-'));
        return new KafkaProducer<>(config, new StringSerializer(), new ConfluentAvroSerializer<AuditEvent>(registry, true));
    }

    /**
     * Builds and closes one producer: settings Kafka refuses (a host that does not resolve, a CA
     * that is not PEM) fail here, at a service's start, rather than in its sender thread.
     *
     * @throws org.apache.kafka.common.KafkaException as Kafka's client refuses them
     */
    public void checkClientSettings() {
        producer("settings-check").close(Duration.ZERO);
    }

    static ProducerRecord<String, AuditEvent> record(String topic, AuditEvent event) {
        return new ProducerRecord<>(topic, event.getProducer(), event);
    }

    /**
     * Appends one event to {@code producerName}'s chain now, continuing it from the topic, and
     * waits until Kafka has it: for a command that takes one decision (a client provisioned).
     * Two writers of one producer at the same moment fork its chain, which the check reports.
     *
     * @throws IllegalStateException with what to do, when the topic is missing or Kafka refuses
     */
    public AuditEvent appendNow(String producerName, String type, Map<String, String> attributes) {
        AuditChain chain = lastEventOf(producerName).map(last -> AuditChain.after(producerName, last))
                .orElseGet(() -> AuditChain.start(producerName));
        AuditEvent event = chain.next(Instant.now(), type, attributes);
        try (KafkaProducer<String, AuditEvent> producer = producer(producerName)) {
            producer.send(record(topic, event)).get(60, TimeUnit.SECONDS);
            return event;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the audit topic " + topic + " did not take the event (" + e.getClass().getSimpleName()
                    + "); check that it exists and that this principal may write it ('workers provision' creates it)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing the audit event", e);
        }
    }

    /** {@code producerName}'s last event on the topic: each partition's tail first, then further back. */
    public Optional<AuditEvent> lastEventOf(String producerName) {
        ConfluentAvroDeserializer<AuditEvent> reader = new ConfluentAvroDeserializer<>(AuditEvent.class, registry);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            AuditEvent last = null;
            for (TopicPartition tp : partitions) {
                long window = TAIL;
                while (true) {
                    long from = Math.max(begin.get(tp), end.get(tp) - window);
                    AuditEvent[] found = new AuditEvent[1];
                    read(consumer, tp, from, end.get(tp), r -> {
                        if (producerName.equals(key(r))) {
                            // a record of this producer that does not decode (the registry down?) must not be
                            // skipped: continuing from an older event would fork the chain
                            found[0] = reader.deserialize(topic, r.value());
                        }
                    });
                    if (found[0] != null || from == begin.get(tp)) {
                        if (found[0] != null && (last == null || found[0].getSequence() > last.getSequence())) {
                            last = found[0];
                        }
                        break;
                    }
                    window *= 4;
                }
            }
            return Optional.ofNullable(last);
        }
    }

    /** Checks every producer's chain: every record of the topic, partition by partition in offset order. */
    public AuditChainCheck.Result check() {
        AuditChainCheck check = new AuditChainCheck();
        forEach(check::accept, check::acceptUnreadable);
        return check.result();
    }

    /**
     * Every event of the topic in order with its position ({@code topic/partition@offset}); a
     * record that is not an event goes to {@code unreadable} with why.
     */
    public void forEach(java.util.function.BiConsumer<AuditEvent, String> event,
                        java.util.function.BiConsumer<String, String> unreadable) {
        ConfluentAvroDeserializer<AuditEvent> reader = new ConfluentAvroDeserializer<>(AuditEvent.class, registry);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            for (TopicPartition tp : partitions) {
                read(consumer, tp, begin.get(tp), end.get(tp), r -> {
                    String position = topic + "/" + r.partition() + "@" + r.offset();
                    AuditEvent e;
                    try {
                        e = reader.deserialize(topic, r.value());
                    } catch (RuntimeException ex) {
                        unreadable.accept(position, ex.getClass().getSimpleName());
                        return;
                    }
                    if (e == null) {
                        unreadable.accept(position, "no value");
                    } else if (!e.getProducer().equals(key(r))) {
                        unreadable.accept(position, "its key names another producer than the event");
                    } else {
                        event.accept(e, position);
                    }
                });
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer) {
        var infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("the audit topic " + topic + " does not exist (or this principal may not "
                    + "describe it); 'workers provision' creates it");
        }
        return infos.stream().map(p -> new TopicPartition(topic, p.partition())).sorted(
                java.util.Comparator.comparingInt(TopicPartition::partition)).toList();
    }

    private static void read(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long from, long end,
                             java.util.function.Consumer<ConsumerRecord<byte[], byte[]>> each) {
        consumer.assign(List.of(tp));
        consumer.seek(tp, from);
        long lastProgress = System.nanoTime();
        while (consumer.position(tp) < end) {
            if (System.nanoTime() - lastProgress > IDLE_LIMIT.toNanos()) {
                throw new IllegalStateException("reading " + tp + " stopped at offset " + consumer.position(tp) + " of " + end
                        + " for " + IDLE_LIMIT.toSeconds() + " s; check that Kafka is reachable and this principal may read it");
            }
            var records = consumer.poll(Duration.ofMillis(500));
            if (!records.isEmpty()) {
                lastProgress = System.nanoTime();
            }
            for (ConsumerRecord<byte[], byte[]> r : records) {
                if (r.offset() < end) {
                    each.accept(r);
                }
            }
        }
    }

    private static String key(ConsumerRecord<byte[], byte[]> r) {
        return r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
    }
}
