package io.sealstream.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.audit.AuditChain;
import io.sealstream.audit.AuditChainCheck;
import io.sealstream.audit.AuditTopic;
import io.sealstream.audit.KafkaAuditSink;
import io.sealstream.cli.SealstreamCommand;
import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.Eventually;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import io.sealstream.localstack.WorkerRefusedException;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.AuditEvent;
import io.sealstream.tenancy.ClientOnboarding;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The audit topic on a running stack: the key broker's decisions and client provisioning are
 * chained events on it, a restarted writer continues its chain, and {@code sealstream audit
 * verify} finds a forged event.
 */
@WithLocalStack
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditTopicTest {
    private static final String KEY_BROKER = LocalStack.KEY_BROKER_AUDIT_PRODUCER;
    private static LocalStack stack;
    @TempDir
    static Path dir;
    private static Path admin;

    @StackOptions
    static LocalStack.Options stackOptions() {
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        try (SealstreamClient acme = stack.client("acme")) {
            acme.embeddings().createBlocking(SyntheticEngine.MODEL, List.of("a text"));
        }
    }

    @Test
    @Order(1)
    void theKeyBrokersDecisionsAreEventsOnItsChain() throws Exception {
        List<AuditEvent> broker = awaitEvents(KEY_BROKER, e -> e.getType().equals("release.granted"));

        assertThat(broker).extracting(AuditEvent::getType)
                .contains("custody.root_created", "topic.provisioned", "attest.accepted", "release.granted");
        assertThat(broker).extracting(AuditEvent::getSequence).containsExactlyElementsOf(
                java.util.stream.LongStream.range(0, broker.size()).boxed().toList());
        AuditEvent accepted = broker.stream().filter(e -> e.getType().equals("attest.accepted")).findFirst().orElseThrow();
        assertThat(accepted.getAttributes()).containsEntry("tee", "snp").containsEntry("simulated", "true")
                .containsKeys("measurement", "lease", "expires_at");
    }

    @Test
    @Order(2)
    void aRefusedWorkerIsAuditedWithItsFailureCode() throws Exception {
        byte[] unapproved = new byte[48];
        java.util.Arrays.fill(unapproved, (byte) 7); // a build no policy names
        catchThrowableOfType(WorkerRefusedException.class, () -> stack.startWorker("rogue", unapproved));

        List<AuditEvent> broker = awaitEvents(KEY_BROKER, e -> e.getType().equals("attest.denied"));

        assertThat(broker).filteredOn(e -> e.getType().equals("attest.denied")).extracting(e -> e.getAttributes().get("code"))
                .containsExactly("unknown_measurement");
    }

    @Test
    @Order(3)
    void provisioningAClientIsAnEventOfTheProvisioningChain() throws Exception {
        List<AuditEvent> provisioning = awaitEvents(ClientOnboarding.AUDIT_PRODUCER, e -> true);

        assertThat(provisioning).extracting(AuditEvent::getType).contains("client.provisioned");
        AuditEvent acme = provisioning.stream().filter(e -> "acme".equals(e.getAttributes().get("client"))).findFirst()
                .orElseThrow();
        assertThat(acme.getAttributes()).containsEntry("response_topic", "sealstream.responses.acme")
                .containsKeys("request_topics", "produce_bps", "fetch_bps");
    }

    @Test
    @Order(4)
    void aRestartedWriterContinuesItsChainAndTheTopicStaysIntact() throws Exception {
        AuditTopic topic = stack.auditTopic();
        for (int run = 0; run < 2; run++) {
            try (KafkaAuditSink sink = new KafkaAuditSink("test/restarted", topic)) {
                for (int i = 0; i < 3; i++) {
                    sink.accept(Instant.now(), "test.event", Map.of("run", Integer.toString(run), "i", Integer.toString(i)));
                }
            }
        }

        AuditChainCheck.Result r = topic.check();

        assertThat(r.intact()).as("%s", r.firstBreak()).isTrue();
        assertThat(r.lastSequences()).containsEntry("test/restarted", 5L);
    }

    @Test
    @Order(5)
    void auditVerifySaysEveryChainIsIntact() {
        Out out = cli("audit", "verify", "--admin", admin.toString());

        assertThat(out.exit()).isZero();
        assertThat(out.text()).contains("every chain intact").contains(KEY_BROKER).contains("provisioning");
    }

    @Test
    @Order(6)
    void aForgedEventIsTheFirstBreakAuditVerifyNames() throws Exception {
        AuditTopic topic = stack.auditTopic();
        AuditEvent last = topic.lastEventOf(ClientOnboarding.AUDIT_PRODUCER).orElseThrow();
        // what an operator with write access could append: the next sequence, but not the real hash
        AuditEvent forged = AuditEvent.newBuilder(AuditChain.after(ClientOnboarding.AUDIT_PRODUCER, last).next(Instant.now(), "client.provisioned",
                Map.of("client", "mallory"))).setPreviousHash(ByteBuffer.wrap(new byte[32])).build();
        long offset;
        try (KafkaProducer<String, AuditEvent> producer = new KafkaProducer<>(stack.kafka().adminClientConfig(),
                new StringSerializer(), new ConfluentAvroSerializer<AuditEvent>(
                        new SchemaRegistryClient(stack.registry().url(), Duration.ofSeconds(10)), true))) {
            offset = producer.send(new ProducerRecord<>(KafkaNames.AUDIT_TOPIC, forged.getProducer(), forged)).get().offset();
        }

        Out out = cli("audit", "verify", "--admin", admin.toString());

        assertThat(out.exit()).isEqualTo(1);
        assertThat(out.text()).contains("BROKEN at " + KafkaNames.AUDIT_TOPIC + "/0@" + offset)
                .contains("producer provisioning").contains("does not carry the hash of sequence " + last.getSequence());
    }

    /** The producer's events once one matches {@code until} (the key broker writes asynchronously). */
    private static List<AuditEvent> awaitEvents(String producer, java.util.function.Predicate<AuditEvent> until)
            throws InterruptedException {
        List<AuditEvent> events = new ArrayList<>();
        Eventually.holds(Duration.ofSeconds(30), () -> {
            events.clear();
            stack.auditTopic().forEach((e, position) -> {
                if (e.getProducer().equals(producer)) {
                    events.add(e);
                }
            }, (position, why) -> { });
            return events.stream().anyMatch(until);
        });
        return events;
    }

    private record Out(int exit, String text) {
    }

    private static Out cli(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int exit = new CommandLine(new SealstreamCommand()).execute(args);
            return new Out(exit, captured.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(original);
        }
    }
}
