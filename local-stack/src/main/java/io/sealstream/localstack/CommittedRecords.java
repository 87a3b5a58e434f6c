package io.sealstream.localstack;


import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads topics of a running stack the way a client would see them, committed records only: the raw
 * counts that fault tests and {@code bench faults} assert and print (no client-side dedup).
 */
public final class CommittedRecords {
    private CommittedRecords() {
    }

    /** Every committed record of {@code topic}, from the beginning. */
    public static List<ConsumerRecord<String, byte[]>> readAll(StackEndpoints stack, String topic) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(stack, List.of(topic))) {
            Map<TopicPartition, Long> end = consumer.endOffsets(consumer.assignment());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (end.keySet().stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /**
     * Hands every committed record of {@code topics}, from the beginning and then as they arrive, to
     * {@code sink} until {@code done} holds or {@code timeout} passes; the consumer's poll does the
     * waiting. Returns whether {@code done} held.
     */
    public static boolean readUntil(StackEndpoints stack, List<String> topics, Consumer<ConsumerRecord<String, byte[]>> sink,
                                    BooleanSupplier done, Duration timeout) {
        try (KafkaConsumer<String, byte[]> consumer = fromBeginning(stack, topics)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.getAsBoolean()) {
                if (System.nanoTime() > deadline) {
                    return false;
                }
                consumer.poll(Duration.ofMillis(200)).forEach(sink);
            }
            return true;
        }
    }

    private static KafkaConsumer<String, byte[]> fromBeginning(StackEndpoints stack, List<String> topics) {
        // the operator's view of every topic: the admin principal
        Map<String, Object> config = new java.util.HashMap<>(stack.adminClientConfig());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        for (String topic : topics) {
            consumer.partitionsFor(topic).forEach(p -> parts.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        return consumer;
    }

    /** How many committed answers each request id has on {@code topic}. */
    public static Map<String, Integer> answerCounts(StackEndpoints stack, String topic) {
        ConfluentAvroDeserializer<EncryptedResponse> reader = new ConfluentAvroDeserializer<>(EncryptedResponse.class,
                new SchemaRegistryClient(stack.registryUrl(), Duration.ofSeconds(10)));
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : readAll(stack, topic)) {
            counts.merge(reader.deserialize(topic, r.value()).getRequestId(), 1, Integer::sum);
        }
        return counts;
    }
}
