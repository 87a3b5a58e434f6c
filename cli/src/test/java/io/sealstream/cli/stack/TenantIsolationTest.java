package io.sealstream.cli.stack;

import io.sealstream.cli.SealstreamCommand;
import io.sealstream.client.ConnectionFile;
import io.sealstream.client.SealstreamClient;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tenancy at the Kafka layer, tried with a second client's real credentials on the secured stack
 * (SASL_SSL, SCRAM-SHA-512, StandardAuthorizer): globex reaches its own two topics and nothing
 * of acme's or the workers'.
 */
@WithLocalStack(streamThreadsNeverFail = true)
class TenantIsolationTest {
    private static LocalStack stack;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme", "globex"))
                .batchLinger(Duration.ofMillis(20)).engine(SyntheticEngine::new);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        // one answered request, so the workers' changelog holds a record to try to read
        try (SealstreamClient acme = stack.client("acme")) {
            acme.embeddings().createBlocking(model(), List.of("acme's text"));
        }
    }

    @Test
    void anotherClientCannotReadAClientsResponses() {
        assertThatThrownBy(() -> readAs("globex", "sealstream.responses.acme"))
                .isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void anotherClientCannotWriteAClientsRequestTopic() {
        assertThatThrownBy(() -> writeAs("globex", stack.requestTopicOf("acme")))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void anotherClientCannotForgeAnswersOnAClientsResponseTopic() {
        assertThatThrownBy(() -> writeAs("globex", "sealstream.responses.acme"))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void anotherClientCannotReadAClientsStreamedChunks() {
        assertThatThrownBy(() -> readAs("globex", "sealstream.streams.acme"))
                .isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotWriteChunksToItsOwnOrAnotherClientsStreamTopic() {
        assertThatThrownBy(() -> writeAs("globex", "sealstream.streams.globex"))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> writeAs("globex", "sealstream.streams.acme"))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotWriteItsOwnResponseTopic() {
        assertThatThrownBy(() -> writeAs("globex", "sealstream.responses.globex"))
                .hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotJoinTheWorkersConsumerGroup() {
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig("globex"));
        c.put(ConsumerConfig.GROUP_ID_CONFIG, stack.names().workerApplicationId());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(Set.of("sealstream.responses.globex"));
            assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(10))).isInstanceOf(GroupAuthorizationException.class);
        }
    }

    @Test
    void aClientCannotTakeTheWorkersTransactionalIdsToFenceThem() {
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig("globex"));
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, stack.names().workerApplicationId() + "-0_0");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            assertThatThrownBy(producer::initTransactions).isInstanceOf(TransactionalIdAuthorizationException.class);
        }
    }

    @Test
    void aClientCannotReadTheWorkersChangelog() throws Exception {
        String changelog;
        try (Admin admin = stack.kafka().admin()) {
            changelog = admin.listTopics().names().get().stream()
                    .filter(t -> t.startsWith(stack.names().workerApplicationId() + "-") && t.endsWith("-changelog"))
                    .findFirst().orElseThrow();
        }

        assertThatThrownBy(() -> readAs("globex", changelog)).isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotReadTheDeadLetterTopic() {
        assertThatThrownBy(() -> readAs("globex", stack.names().dlqTopic())).isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotReadATopicNoRuleGrants() {
        // anything an operator adds is denied by default (no ACL = deny)
        stack.kafka().createTopics(1, List.of("operations.private"));

        assertThatThrownBy(() -> readAs("globex", "operations.private")).isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotReadTheAuditTopic() {
        assertThatThrownBy(() -> readAs("globex", KafkaNames.AUDIT_TOPIC)).isInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void aClientCannotAppendToTheAuditTopic() {
        assertThatThrownBy(() -> writeAs("globex", KafkaNames.AUDIT_TOPIC)).hasCauseInstanceOf(TopicAuthorizationException.class);
    }

    @Test
    void theWorkersCannotAppendToTheAuditTopic() {
        Map<String, Object> c = new HashMap<>(stack.workerSecurity().clientConfig());
        c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafka().bootstrapServers());
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(KafkaNames.AUDIT_TOPIC,
                    "forged".getBytes(StandardCharsets.UTF_8))).get()).hasCauseInstanceOf(TopicAuthorizationException.class);
        }
    }

    @Test
    void aClientSeesOnlyItsOwnTopicsWhenListing() throws Exception {
        try (Admin globex = Admin.create(stack.kafkaClientConfig("globex"))) {
            assertThat(globex.listTopics().names().get())
                    .containsExactlyInAnyOrder(stack.requestTopicOf("globex"), "sealstream.responses.globex",
                            "sealstream.streams.globex");
        }
    }

    @Test
    void aClientOverItsProduceQuotaIsHeldBackByTheBroker() throws Exception {
        stack.setQuota("hasty", new ClientQuota(16 * 1024, 1 << 20, 50));
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig("hasty"));
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        double throttledMs;
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            byte[] junk = new byte[8 * 1024];
            for (int i = 0; i < 40; i++) { // 320 KiB against 16 KiB/s
                producer.send(new ProducerRecord<>(stack.requestTopicOf("hasty"), junk)).get();
            }
            throttledMs = producer.metrics().entrySet().stream()
                    .filter(e -> e.getKey().name().equals("produce-throttle-time-max")
                            && e.getKey().group().equals("producer-metrics"))
                    .mapToDouble(e -> (Double) e.getValue().metricValue()).max().orElse(0);
        }

        // the broker, not the client, reports the delay it imposed on this principal
        assertThat(throttledMs).isPositive();
    }

    @Test
    void aConnectionWithoutCredentialsIsRefused() {
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig("globex"));
        c.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"globex\" password=\"guessed\";");
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin guessing = Admin.create(c)) {
            assertThatThrownBy(() -> guessing.listTopics().names().get())
                    .hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void theSdkRefusesCredentialsOfAnotherClient() {
        KafkaSecurity globex = stack.clientSecurity("globex");

        assertThatThrownBy(() -> stack.clientBuilder("acme").kafkaSecurity(globex).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("globex").hasMessageContaining("acme");
    }

    @Test
    void clientsAddWritesAWorkingConnectionAndRemoveLocksTheClientOut(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);

        assertThat(cli("clients", "add", "initech", "--admin", admin.toString(), "--out", dir.toString(),
                "--partitions", "2")).isZero();
        Path credentials = dir.resolve("initech.credentials");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(credentials))).isEqualTo("rw-------");
        assertThat(Files.readString(dir.resolve("initech.connection"))).doesNotContain(
                ClientCredentials.read(credentials).password());
        try (SealstreamClient initech = ConnectionFile.read(dir.resolve("initech.connection")).clientBuilder()
                .requestTimeout(Duration.ofSeconds(90)).build()) {
            assertThat(initech.embeddings().createBlocking(model(), List.of("a new tenant's text")).embeddings()).hasSize(1);
        }
        String listed = cliOutput("clients", "list", "--admin", admin.toString());
        assertThat(listed).contains("initech").contains("acme").contains("globex").doesNotContain("sealstream-worker");

        assertThat(cli("clients", "remove", "initech", "--admin", admin.toString())).isZero();

        KafkaSecurity removed = ConnectionFile.read(dir.resolve("initech.connection")).kafkaSecurity();
        Map<String, Object> c = new HashMap<>(removed.clientConfig());
        c.put("bootstrap.servers", stack.kafka().bootstrapServers());
        c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
        try (Admin gone = Admin.create(c)) {
            assertThatThrownBy(() -> gone.listTopics().names().get()).hasCauseInstanceOf(SaslAuthenticationException.class);
        }
    }

    @Test
    void clientsAddPinsTheKeyBrokersLogKeyWhenTheAdminFileWasWrittenBeforeTheKeyBrokerRan(@TempDir Path dir)
            throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        // as compose writes it: the key broker had not made its log key yet
        Files.write(admin, Files.readAllLines(admin).stream().filter(l -> !l.startsWith(ConnectionFile.LOG_KEY)).toList());

        assertThat(cli("clients", "add", "cyberdyne", "--admin", admin.toString(), "--out", dir.toString())).isZero();

        assertThat(ConnectionFile.read(dir.resolve("cyberdyne.connection")).logKey())
                .isEqualTo(java.util.Base64.getEncoder().encodeToString(stack.logKey()));
    }

    @Test
    void clientsAdoptFinishesAClientWhoseKafkaSideAnOperatorMadeAndItsConnectionServes(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        // what Strimzi's user and topic operators do for 'clients manifest hooli': the same rows, its own password
        ClientCredentials made = ClientCredentials.generate("hooli");
        try (ClientProvisioner operator = new ClientProvisioner(stack.kafka().adminClientConfig(), KafkaNames.DEFAULTS, 2)) {
            operator.addClient(made, ClientQuota.DEFAULT, false);
        }
        Path password = dir.resolve("hooli.password");
        Files.writeString(password, made.password() + "\n");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("r--------"));
        Path out = dir.resolve("out");

        assertThat(cli("clients", "adopt", "hooli", "--admin", admin.toString(), "--password-file", password.toString(),
                "--out", out.toString())).isZero();

        assertThat(ClientCredentials.read(out.resolve("hooli.credentials"))).isEqualTo(made);
        try (SealstreamClient hooli = ConnectionFile.read(out.resolve("hooli.connection")).clientBuilder()
                .requestTimeout(Duration.ofSeconds(90)).build()) {
            assertThat(hooli.embeddings().createBlocking(model(), List.of("an adopted tenant's text")).embeddings()).hasSize(1);
        }
    }

    @Test
    void clientsAdoptRefusesAPasswordThatIsNotTheClientsAndWritesNothing(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        try (ClientProvisioner operator = new ClientProvisioner(stack.kafka().adminClientConfig(), KafkaNames.DEFAULTS, 2)) {
            operator.addClient(ClientCredentials.generate("umbrella"), ClientQuota.DEFAULT, false);
        }
        // another tenant's password, or a typo: the same shape, not the client's
        Path password = dir.resolve("umbrella.password");
        Files.writeString(password, ClientCredentials.generate("umbrella").password());
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("r--------"));
        Path out = dir.resolve("out");

        assertThat(cli("clients", "adopt", "umbrella", "--admin", admin.toString(), "--password-file", password.toString(),
                "--out", out.toString())).isEqualTo(1);

        assertThat(out).doesNotExist();
    }

    @Test
    void clientsAdoptRefusesAPasswordFileOthersMayReadAndWritesNothing(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        Path password = dir.resolve("loose.password");
        Files.writeString(password, "c2VjcmV0");
        Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
        Path out = dir.resolve("out");

        assertThat(cli("clients", "adopt", "loose", "--admin", admin.toString(), "--password-file", password.toString(),
                "--out", out.toString())).isEqualTo(1);

        assertThat(out).doesNotExist();
    }

    @Test
    void removingAClientCutsOffAConnectionItAlreadyHolds(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig("leaving"));
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            String topic = stack.requestTopicOf("leaving");
            producer.send(new ProducerRecord<>(topic, "before".getBytes(StandardCharsets.UTF_8))).get();

            assertThat(cli("clients", "remove", "leaving", "--admin", admin.toString())).isZero();

            assertThatThrownBy(() -> producer.send(new ProducerRecord<>(topic, "after".getBytes(StandardCharsets.UTF_8))).get())
                    .hasCauseInstanceOf(TopicAuthorizationException.class);
        }
    }

    @Test
    void aPrincipalThatAlreadyHoldsAclsCannotBeTakenOverAsAClient(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        try (Admin operator = stack.kafka().admin()) {
            operator.createAcls(List.of(new org.apache.kafka.common.acl.AclBinding(
                    new org.apache.kafka.common.resource.ResourcePattern(org.apache.kafka.common.resource.ResourceType.TOPIC,
                            "ops.metrics", org.apache.kafka.common.resource.PatternType.LITERAL),
                    new org.apache.kafka.common.acl.AccessControlEntry("User:ops", "*",
                            org.apache.kafka.common.acl.AclOperation.READ,
                            org.apache.kafka.common.acl.AclPermissionType.ALLOW)))).all().get();
        }

        assertThat(cli("clients", "add", "ops", "--admin", admin.toString(), "--out", dir.toString())).isEqualTo(1);
        assertThat(dir.resolve("ops.credentials")).doesNotExist();
    }

    @Test
    void clientsAddNeverOverwritesFilesAlreadyInItsOutputDirectory(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        Files.writeString(dir.resolve("wary.credentials"), "someone else's");

        assertThat(cli("clients", "add", "wary", "--admin", admin.toString(), "--out", dir.toString())).isEqualTo(2);
        assertThat(Files.readString(dir.resolve("wary.credentials"))).isEqualTo("someone else's");
        assertThat(cliOutput("clients", "list", "--admin", admin.toString())).doesNotContain("wary");
    }

    @Test
    void workersProvisionWillNotReuseAnotherPrincipalsCredentials(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        ClientCredentials tenant = ClientCredentials.generate("acme");
        tenant.write(dir.resolve("worker.credentials"));

        assertThat(cli("workers", "provision", "--admin", admin.toString(), "--out", dir.toString(),
                "--key-broker-out", dir.resolve("key-broker").toString(), "--reuse-credentials")).isEqualTo(2);
        assertThat(ClientCredentials.read(dir.resolve("worker.credentials"))).isEqualTo(tenant);
    }

    @Test
    void workersProvisionWillNotReuseCredentialsThroughALink(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        Path planted = dir.resolve("elsewhere.credentials");
        ClientCredentials.generate(KafkaNames.DEFAULTS.workerUser()).write(planted);
        Files.createSymbolicLink(dir.resolve("worker.credentials"), planted);

        assertThat(cli("workers", "provision", "--admin", admin.toString(), "--out", dir.toString(),
                "--key-broker-out", dir.resolve("key-broker").toString(), "--reuse-credentials")).isEqualTo(2);
        assertThat(Files.isSymbolicLink(dir.resolve("worker.credentials"))).isTrue();
    }

    @Test
    void reAddingARemovedClientMustDeleteOrExplicitlyReuseWhatItLeft(@TempDir Path dir) throws Exception {
        Path admin = dir.resolve("admin.connection");
        stack.writeAdminConnection(admin);
        Files.createDirectories(dir.resolve("a"));
        Files.createDirectories(dir.resolve("b"));
        Files.createDirectories(dir.resolve("c"));
        // --partitions 4 against a deployment of 2: the workers need one count for every request topic
        assertThat(cli("clients", "add", "phoenix", "--admin", admin.toString(), "--out", dir.resolve("a").toString(),
                "--partitions", "4")).isZero();
        try (Admin operator = stack.kafka().admin()) {
            assertThat(operator.describeTopics(List.of(stack.requestTopicOf("phoenix"))).allTopicNames().get()
                    .get(stack.requestTopicOf("phoenix")).partitions()).hasSize(2);
        }
        assertThat(cli("clients", "remove", "phoenix", "--admin", admin.toString())).isZero();

        assertThat(cli("clients", "add", "phoenix", "--admin", admin.toString(), "--out", dir.resolve("b").toString()))
                .isEqualTo(1);
        assertThat(cli("clients", "add", "phoenix", "--admin", admin.toString(), "--out", dir.resolve("c").toString(),
                "--reuse-topics")).isZero();
    }

    @Test
    void aCredentialsFileOthersMayReadIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("loose.credentials");
        ClientCredentials.generate("loose").write(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        assertThatThrownBy(() -> ClientCredentials.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chmod 600");
    }

    private static String model() {
        return stack.engine().models().iterator().next();
    }

    private static void readAs(String client, String topic) {
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig(client));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            for (int i = 0; i < 20; i++) {
                consumer.poll(Duration.ofMillis(500));
            }
        }
    }

    private static void writeAs(String client, String topic) throws ExecutionException, InterruptedException {
        Map<String, Object> c = new HashMap<>(stack.kafkaClientConfig(client));
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(c, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "forged".getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    private static int cli(String... args) {
        return new CommandLine(new SealstreamCommand()).execute(args);
    }

    private static String cliOutput(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            assertThat(cli(args)).isZero();
        } finally {
            System.setOut(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
