package io.sealstream.localstack;

import io.sealstream.devstack.kafka.EmbeddedKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Looks for a canary string everywhere plaintext must never be: every record (key, value,
 * headers) of every topic, internal ones included, read uncommitted; and every byte of every file
 * under given directories (Kafka segments, Streams state, key broker data).
 */
public final class CanaryScan {
    private final byte[] canary;
    private final List<String> findings = new ArrayList<>();
    private long recordsScanned;
    private long filesScanned;

    public CanaryScan(String canary) {
        this.canary = canary.getBytes(StandardCharsets.UTF_8);
    }

    public CanaryScan topics(EmbeddedKafka kafka) throws Exception {
        Set<String> topics;
        try (Admin admin = kafka.admin()) {
            topics = admin.listTopics(new org.apache.kafka.clients.admin.ListTopicsOptions().listInternal(true)).names().get();
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(operatorConfig(kafka,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted",
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            for (String topic : topics) {
                List<TopicPartition> parts = consumer.partitionsFor(topic).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                consumer.assign(parts);
                consumer.seekToBeginning(parts);
                Map<TopicPartition, Long> end = consumer.endOffsets(parts);
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        recordsScanned++;
                        check(r.key(), topic + " key @" + r.offset());
                        check(r.value(), topic + " value @" + r.offset());
                        for (Header h : r.headers()) {
                            check(h.value(), topic + " header " + h.key() + " @" + r.offset());
                        }
                    }
                }
            }
        }
        return this;
    }

    public CanaryScan files(Path dir) {
        if (!Files.exists(dir)) {
            return this;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.filter(Files::isRegularFile).forEach(f -> {
                try {
                    filesScanned++;
                    check(Files.readAllBytes(f), f.toString());
                } catch (IOException e) {
                    // a file removed while walking (segment roll, state cleanup) holds nothing now
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public CanaryScan text(String what, String text) {
        if (text.contains(new String(canary, StandardCharsets.UTF_8))) {
            findings.add(what);
        }
        return this;
    }

    public List<String> findings() {
        return findings;
    }

    public long recordsScanned() {
        return recordsScanned;
    }

    public long filesScanned() {
        return filesScanned;
    }

    private void check(byte[] bytes, String where) {
        if (bytes != null && indexOf(bytes, canary) >= 0) {
            findings.add(where);
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** The operator's view of every topic, as the admin principal: what a curious Kafka operator sees. */
    private static Map<String, Object> operatorConfig(EmbeddedKafka kafka, Object... keyValues) {
        Map<String, Object> c = new java.util.HashMap<>(kafka.adminClientConfig());
        for (int i = 0; i < keyValues.length; i += 2) {
            c.put((String) keyValues[i], keyValues[i + 1]);
        }
        return c;
    }
}
