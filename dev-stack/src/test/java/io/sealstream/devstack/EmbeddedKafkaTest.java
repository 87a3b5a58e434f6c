package io.sealstream.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

@EmbeddedStack(registry = false)
class EmbeddedKafkaTest {

    @Test
    void servesProducersAndConsumersOnLoopback(EmbeddedKafka kafka) throws Exception {
        kafka.createTopics(3, List.of("dev-stack.roundtrip"));

        produce(kafka, "dev-stack.roundtrip", 10);

        assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
        assertThat(consumeAll(kafka, "dev-stack.roundtrip", 10)).hasSize(10);
    }

    @Test
    void restartKeepsAddressTopicsAndCommittedRecords(EmbeddedKafka kafka) throws Exception {
        kafka.createTopics(1, List.of("dev-stack.restart"));
        produce(kafka, "dev-stack.restart", 5);
        String before = kafka.bootstrapServers();

        kafka.restart();
        produce(kafka, "dev-stack.restart", 5);

        assertThat(kafka.isRunning()).isTrue();
        assertThat(kafka.bootstrapServers()).isEqualTo(before);
        try (var admin = kafka.admin()) {
            assertThat(admin.listTopics().names().get()).contains("dev-stack.restart");
        }
        assertThat(consumeAll(kafka, "dev-stack.restart", 10)).hasSize(10);
    }

    @Test
    void supportsTransactionsForExactlyOnceProcessing(EmbeddedKafka kafka) throws Exception {
        kafka.createTopics(1, List.of("dev-stack.tx"));
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config(kafka,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, "dev-stack-tx"), new StringSerializer(), new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("dev-stack.tx", "k", "committed"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("dev-stack.tx", "k", "aborted"));
            producer.flush();
            producer.abortTransaction();
        }

        List<ConsumerRecord<String, String>> seen = consumeAll(kafka, "dev-stack.tx", 1);

        assertThat(seen).extracting(ConsumerRecord::value).containsExactly("committed");
    }

    @Test
    void refusesAConnectionWithoutTls(EmbeddedKafka kafka) {
        try (Admin plain = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000))) {
            assertThatThrownBy(() -> plain.listTopics().names().get()).hasCauseInstanceOf(TimeoutException.class);
        }
    }

    @Test
    void refusesAWrongPasswordOverTls(EmbeddedKafka kafka) {
        Map<String, Object> c = new HashMap<>(kafka.clientConfig(EmbeddedKafka.ADMIN_USER, "not-the-password"));
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin wrong = Admin.create(c)) {
            assertThatThrownBy(() -> wrong.listTopics().names().get()).hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void refusesAServerIdentityNotSignedByTheTrustedCa(EmbeddedKafka kafka) {
        EmbeddedKafka other = EmbeddedKafka.builder().build();
        Map<String, Object> c = new HashMap<>(kafka.adminClientConfig());
        // the CA of another embedded broker: a man in the middle with its own certificate looks like this
        c.put("ssl.truststore.certificates", other.caCertificatePem().orElseThrow());
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin wrongCa = Admin.create(c)) {
            assertThatThrownBy(() -> wrongCa.listTopics().names().get()).hasCauseInstanceOf(SslAuthenticationException.class);
        } finally {
            other.close();
        }
    }

    @Test
    void closeDeletesATemporaryLogDirectory() {
        EmbeddedKafka own = EmbeddedKafka.builder().build().start();
        Path dir = own.logDir();
        assertThat(dir).isDirectory();

        own.close();

        assertThat(own.isRunning()).isFalse();
        assertThat(Files.exists(dir)).isFalse();
    }

    private static Map<String, Object> config(EmbeddedKafka kafka, Object... keyValues) {
        Map<String, Object> c = new HashMap<>(kafka.adminClientConfig());
        for (int i = 0; i < keyValues.length; i += 2) {
            c.put((String) keyValues[i], keyValues[i + 1]);
        }
        return c;
    }

    private static void produce(EmbeddedKafka kafka, String topic, int n) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config(kafka,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
            }
        }
    }

    private static List<ConsumerRecord<String, String>> consumeAll(EmbeddedKafka kafka, String topic, int expected) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config(kafka,
                ConsumerConfig.GROUP_ID_CONFIG, "dev-stack-test-" + System.nanoTime(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(Set.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            // one more poll: anything beyond the expected count would show up here
            consumer.poll(Duration.ofMillis(500)).forEach(out::add);
        }
        return out;
    }
}
