package io.sealstream.cli.bench;

import io.sealstream.cli.stack.LocalStack;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    public static List<ConsumerRecord<String, byte[]>> readAll(LocalStack stack, String topic) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafka().bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    /** How many committed answers each request id has on {@code topic}. */
    public static Map<String, Integer> answerCounts(LocalStack stack, String topic) {
        ConfluentAvroDeserializer<EncryptedResponse> reader = new ConfluentAvroDeserializer<>(EncryptedResponse.class,
                new SchemaRegistryClient(stack.registry().url(), Duration.ofSeconds(10)));
        Map<String, Integer> counts = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : readAll(stack, topic)) {
            counts.merge(reader.deserialize(topic, r.value()).getRequestId(), 1, Integer::sum);
        }
        return counts;
    }
}
