package io.sealstream.localstack;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SevCrateJson;
import io.sealstream.attestation.simulated.SimulatedAttestationAgent;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.audit.AuditTopic;
import io.sealstream.audit.KafkaAuditSink;
import io.sealstream.service.KafkaConnectionSettings;
import io.sealstream.client.BrokerTrust;
import io.sealstream.client.LogTrust;
import io.sealstream.client.ConnectionFile;
import io.sealstream.client.SealstreamClient;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.custody.OwnerPolicyChange;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientOnboarding;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.WorkerConfig;
import io.sealstream.worker.engine.InferenceEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded Sealstream stack of {@code sealstream up}, {@code demo} and the end-to-end tests,
 * all on loopback: a real KRaft Kafka broker, the schema registry child process, the key broker
 * in a simulated SNP TEE, N workers in simulated SNP TEEs, and provisioned clients. The
 * development policy accepts simulated evidence; nothing else does.
 */
public final class LocalStack implements StackEndpoints, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
    /** Launch measurement the simulated worker TEE reports (SHA-384 of a fixed label). */
    public static final byte[] WORKER_MEASUREMENT = SimulatedSnpTee.devWorkerMeasurement();
    /** Launch measurement the simulated key broker TEE reports. */
    public static final byte[] BROKER_MEASUREMENT = SimulatedSnpTee.devBrokerMeasurement();
    /** The embedded key broker's audit chain. */
    public static final String KEY_BROKER_AUDIT_PRODUCER = "key-broker/local";

    /** See {@link ClientProvisioner#RESPONSE_TOPIC_CONFIG}. */
    public static final java.util.Map<String, String> RESPONSE_TOPIC_CONFIG = ClientProvisioner.RESPONSE_TOPIC_CONFIG;

    private final Options options;
    private final Path dataDir;
    private final boolean ownsDataDir;
    private final EmbeddedKafka kafka;
    private final KafkaNames names;
    private final ClientProvisioner provisioner;
    private final ClientCredentials workerCredentials;
    private final Map<String, KafkaSecurity> clientSecurities = new ConcurrentHashMap<>();
    private final SchemaRegistryServer registry;
    private final KeyBrokerServer keyBroker;
    private volatile AttestationPolicy policy;
    /** The owner's recovery key of this dev stack, named by its policy: tests change the policy with it. */
    private final SealingKeyPair ownerKey = SealingKeyPair.generate();
    private final EvidenceVerifier devVerifier;
    private final SimulatedSnpTee tee;
    private final List<TeeWorker> workers = new ArrayList<>();
    private final List<InferenceEngine> engines = new ArrayList<>();
    private final Map<String, List<InferenceEngine>> poolEngines = new java.util.LinkedHashMap<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private boolean closed;

    private LocalStack(Options options) throws IOException {
        this.options = options;
        this.ownsDataDir = options.dataDir == null;
        this.dataDir = ownsDataDir ? Files.createTempDirectory("sealstream-stack-") : options.dataDir;
        EmbeddedKafka.Builder kb = EmbeddedKafka.builder().logDir(dataDir.resolve("kafka"));
        this.kafka = track((options.plaintextKafka ? kb.plaintext() : kb).build().start());
        this.names = KafkaNames.DEFAULTS.withRequestTopicFamily(options.requestTopicFamily)
                .withPools(List.copyOf(options.pools.keySet()));
        this.provisioner = track(new ClientProvisioner(kafka.adminClientConfig(), names, options.partitions));
        KafkaSecurity keyBrokerSecurity;
        if (kafka.isSecured()) {
            this.workerCredentials = ClientCredentials.generate(names.workerUser());
            provisioner.provisionWorkers(workerCredentials);
            workerCredentials.write(workerCredentialsFile());
            Files.writeString(kafkaCaFile(), kafka.caCertificatePem().orElseThrow());
            ClientCredentials keyBrokerCredentials = ClientCredentials.generate(KafkaNames.KEY_BROKER_USER);
            provisioner.provisionKeyBroker(keyBrokerCredentials);
            keyBrokerSecurity = KafkaSecurity.scram(keyBrokerCredentials, kafka.caCertificatePem().orElseThrow());
        } else {
            this.workerCredentials = null;
            provisioner.createDeadLetterTopic();
            provisioner.createAuditTopic();
            keyBrokerSecurity = KafkaSecurity.plaintext();
        }
        this.registry = track(SchemaRegistryServer.start());
        options.clients.forEach(this::clientSecurity);
        if (options.pools.isEmpty()) {
            List<InferenceEngine> own = new ArrayList<>();
            own.add(track(Objects.requireNonNull(options.engine, "Options.engine is required").get()));
            if (options.chatModel != null) {
                own.add(track(Engines.chat(options.chatModel)));
            }
            poolEngines.put(EnvelopeProtocol.DEFAULT_POOL, own);
        } else {
            options.pools.forEach((pool, spec) -> poolEngines.put(pool, List.of(track(spec.engine().get()))));
        }
        poolEngines.values().forEach(engines::addAll);
        this.policy = AttestationPolicy.parse(developmentPolicyYaml(engines.stream()
                .map(e -> HexFormat.of().formatHex(e.modelDigest())).toList()));
        this.tee = SimulatedSnpTee.shared();
        tee.save(simulatedTeeDir());
        this.devVerifier = SnpVerifier.trustingDevelopmentRoot(List.of(), tee.developmentRoot());
        KeyBrokerConfig.Builder broker = KeyBrokerConfig.builder()
                .dataDir(dataDir.resolve("key-broker"))
                .policy(policy)
                .verifier(TeeType.SNP, devVerifier)
                .ownEvidence(tee.provider(BROKER_MEASUREMENT))
                .custody(Custody.insecureDevFile())
                .topics(names.pools().stream().map(names::familyOf).toList())
                .auditSink(new KafkaAuditSink(KEY_BROKER_AUDIT_PRODUCER, auditTopic(keyBrokerSecurity)));
        if (options.rotation != null) {
            broker.rotationInterval(options.rotation.interval()).pendingLead(options.rotation.pendingLead())
                    .rotationCheck(Duration.ofSeconds(1));
        }
        if (options.leaseTtl != null) {
            broker.leaseTtl(options.leaseTtl);
        }
        this.keyBroker = track(KeyBrokerServer.start(broker.build()));
        if (options.pools.isEmpty()) {
            for (int i = 0; i < options.workers; i++) {
                startWorker("worker-" + i, WORKER_MEASUREMENT);
            }
        } else {
            options.pools.forEach((pool, spec) -> {
                for (int i = 0; i < spec.workers(); i++) {
                    startWorker("worker-" + pool + "-" + i, WORKER_MEASUREMENT, sharedEngines(pool), pool);
                }
            });
        }
        LOG.info("stack.ready kafka={} registry={} key_broker={} workers={} policy_id={}", kafka.bootstrapServers(),
                registry.url(), keyBroker.url(), workers.size(), policy.id());
    }

    /** The audit topic as {@code security}'s principal reaches it. */
    private AuditTopic auditTopic(KafkaSecurity security) {
        return new AuditTopic(KafkaNames.AUDIT_TOPIC,
                new KafkaConnectionSettings.KafkaConnection(kafka.bootstrapServers(), security).clientConfig(),
                new io.sealstream.schemas.registry.SchemaRegistryClient(registry.url(), Duration.ofSeconds(10)));
    }

    /** Starts the stack; the caller closes it. */
    public static LocalStack start(Options options) {
        try {
            return new LocalStack(options);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the stack's data directory", e);
        }
    }

    /**
     * Starts one more in-process worker whose simulated TEE reports {@code measurement}.
     *
     * @throws KeyBrokerException if the key broker refuses it (e.g. 403 for an unknown measurement)
     */
    public TeeWorker startWorker(String workerId, byte[] measurement) {
        String pool = names.pools().get(0);
        return startWorker(workerId, measurement, sharedEngines(pool), pool);
    }

    /**
     * Starts one more in-process worker serving {@code workerEngines} (which it closes) instead of
     * the stack's shared engines: for workers that loaded other models.
     *
     * @throws KeyBrokerException if the key broker refuses it (e.g. 403 for a model the policy does not allow)
     */
    public TeeWorker startWorker(String workerId, byte[] measurement, List<InferenceEngine> workerEngines) {
        return startWorker(workerId, measurement, workerEngines, names.pools().get(0));
    }

    /** As {@link #startWorker(String, byte[], List)}, in worker pool {@code pool}: it reads that pool's request topics. */
    public TeeWorker startWorker(String workerId, byte[] measurement, List<InferenceEngine> workerEngines, String pool) {
        return startWorker(workerId, measurement, workerEngines, pool, keyBroker.url());
    }

    /**
     * One more default-pool worker of the dev image that reaches the key broker at
     * {@code keyBrokerUrl}: a proxy standing in for a hostile network between them.
     */
    public TeeWorker startWorkerThrough(String workerId, String keyBrokerUrl) {
        String pool = names.pools().get(0);
        return startWorker(workerId, WORKER_MEASUREMENT, sharedEngines(pool), pool, keyBrokerUrl);
    }

    /**
     * One more default-pool worker of the dev image as it runs in a Kata pod: its evidence comes
     * through the guest's attestation agent ({@code tee=coco-snp}), here a
     * {@link SimulatedAttestationAgent} of the simulated TEE sending the sev crate's JSON.
     */
    public TeeWorker startWorkerInKataPod(String workerId) {
        String pool = names.pools().get(0);
        SimulatedAttestationAgent agent = track(SimulatedAttestationAgent.serving(tee, WORKER_MEASUREMENT,
                SevCrateJson.Shape.CRATE_6));
        EvidenceProvider evidence;
        try {
            evidence = AttestationAgentProvider.open(agent.url(), TeeType.SNP);
        } catch (AttestationException e) {
            throw new IllegalStateException("the simulated attestation agent of " + workerId + " could not attest", e);
        }
        return startWorker(workerId, evidence, sharedEngines(pool), pool, keyBroker.url());
    }

    /** The stack's engines of {@code pool}, each wrapped so that a worker closing it leaves it to the stack. */
    private List<InferenceEngine> sharedEngines(String pool) {
        return poolEngines.get(pool).stream().<InferenceEngine>map(SharedEngine::new).toList();
    }

    private TeeWorker startWorker(String workerId, byte[] measurement, List<InferenceEngine> workerEngines, String pool,
                                  String keyBrokerUrl) {
        return startWorker(workerId, tee.provider(measurement), workerEngines, pool, keyBrokerUrl);
    }

    private TeeWorker startWorker(String workerId, EvidenceProvider evidence, List<InferenceEngine> workerEngines,
                                  String pool, String keyBrokerUrl) {
        try {
            StreamProcessorConfig.Builder streamsBuilder = StreamProcessorConfig.builder()
                    .bootstrapServers(kafka.bootstrapServers())
                    .kafkaSecurity(workerSecurity())
                    .requestTopicFamily(names.familyOf(pool))
                    .applicationId(names.applicationIdOf(pool))
                    .stateDir(dataDir.resolve("workers").resolve(workerId))
                    .maxBatchSize(options.maxBatchSize)
                    .batchLinger(options.batchLinger)
                    .commitInterval(options.commitInterval);
            if (options.transactionTimeout != null) {
                streamsBuilder.transactionTimeout(options.transactionTimeout);
            }
            options.streamsConfig.forEach(streamsBuilder::streamsConfig);
            StreamProcessorConfig streams = streamsBuilder.build();
            WorkerConfig.Builder wc = WorkerConfig.builder();
            if (options.rotation != null) {
                wc.keyRefresh(options.rotation.workerRefresh());
            }
            TeeWorker worker = TeeWorker.start(wc.workerId(workerId)
                    .keyBrokerUrl(keyBrokerUrl).schemaRegistryUrl(registry.url()).streams(streams).build(),
                    evidence, workerEngines);
            workers.add(worker);
            return worker;
        } catch (KeyBrokerException e) {
            throw new WorkerRefusedException(workerId, e);
        } catch (AttestationException e) {
            throw new IllegalStateException("the simulated TEE of " + workerId + " could not attest", e);
        }
    }

    /** A client provisioned in this stack (its response topic exists), pinned to this key broker and policy. */
    public SealstreamClient client(String clientId) {
        return clientBuilder(clientId).build();
    }

    /** The builder of {@link #client}, for settings such as the request timeout; provisions the client if new. */
    @Override
    public SealstreamClient.Builder clientBuilder(String clientId) {
        return SealstreamClient.builder()
                .bootstrapServers(kafka.bootstrapServers())
                .schemaRegistryUrl(registry.url())
                .keyBrokerUrl(keyBroker.url())
                .clientId(clientId)
                .requestTopicFamily(options.requestTopicFamily)
                .kafkaSecurity(clientSecurity(clientId))
                .trust(trust());
    }

    @Override
    public Map<String, Object> adminClientConfig() {
        return kafka.adminClientConfig();
    }

    @Override
    public String registryUrl() {
        return registry.url();
    }

    /** How {@code clientId} logs in to this stack's Kafka (provisioning it if new): its own principal. */
    public KafkaSecurity clientSecurity(String clientId) {
        return clientSecurities.computeIfAbsent(clientId, c -> {
            ClientCredentials credentials = provision(c);
            return credentials == null ? KafkaSecurity.plaintext()
                    : KafkaSecurity.scram(credentials, kafka.caCertificatePem().orElseThrow());
        });
    }

    /**
     * Bootstrap servers and {@code clientId}'s security settings, for a raw Kafka producer or
     * consumer that acts as that tenant (tests and the fault benchmark's hostile records).
     */
    public Map<String, Object> kafkaClientConfig(String clientId) {
        Map<String, Object> c = new HashMap<>(clientSecurity(clientId).clientConfig());
        c.put("bootstrap.servers", kafka.bootstrapServers());
        return c;
    }

    /** Sets {@code clientId}'s broker quota, as an operator would after provisioning. */
    public void setQuota(String clientId, ClientQuota quota) {
        clientSecurity(clientId);
        provisioner.setQuota(clientId, quota);
    }

    /** How the workers log in to this stack's Kafka. */
    public KafkaSecurity workerSecurity() {
        return workerCredentials == null ? KafkaSecurity.plaintext()
                : KafkaSecurity.scram(workerCredentials, kafka.caCertificatePem().orElseThrow());
    }

    /**
     * Writes {@code clientId}'s connection file to {@code file} and, beside it, its owner-only
     * credentials file {@code <client>.credentials}, as {@code sealstream clients add} does.
     */
    public ConnectionFile writeConnection(String clientId, Path file) {
        ConnectionFile c = connectionBase();
        KafkaSecurity security = clientSecurity(clientId);
        if (security.credentials() != null) {
            Path creds = file.toAbsolutePath().resolveSibling(clientId + ".credentials");
            security.credentials().write(creds);
            c = c.withCredentials(creds);
        }
        c.write(file);
        return c;
    }

    /**
     * Writes the admin principal's connection file (owner-only, with its credentials beside it):
     * what {@code sealstream clients add|list|remove --admin FILE} needs to provision this stack.
     */
    public ConnectionFile writeAdminConnection(Path file) {
        return connectionSite().writeAdmin(file, EmbeddedKafka.ADMIN_USER, kafka.isSecured() ? kafka.adminPassword() : null);
    }

    private ConnectionFile connectionBase() {
        return connectionSite().base();
    }

    private ConnectionSite connectionSite() {
        return new ConnectionSite(kafka.bootstrapServers(), registry.url(), keyBroker.url(), names, policy.id(),
                simulatedTeeDir(), kafka.caCertificatePem().orElse(null), logKey());
    }

    /** What a client of this stack pins: the dev verifier, the broker's measurement, the policy id. */
    public BrokerTrust trust() {
        return BrokerTrust.pinned(devVerifier, HexFormat.of().formatHex(BROKER_MEASUREMENT), policy.id())
                .allowingDevCustody()
                .withLog(LogTrust.pinned(logKey(), dataDir.resolve("clients.log-head"), Duration.ZERO));
    }

    /** The Kafka names of this stack, as access control speaks of them. */
    public KafkaNames names() {
        return names;
    }

    /** Where the workers' credentials are, for the workers' {@code kafka.credentials.file}. */
    public Path workerCredentialsFile() {
        return dataDir.resolve("worker.credentials");
    }

    /** Where the Kafka CA certificate is, for the workers' {@code kafka.ca.file}. */
    public Path kafkaCaFile() {
        return dataDir.resolve("kafka-ca.pem");
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public SchemaRegistryServer registry() {
        return registry;
    }

    /** The key broker's transparency log key (X.509), as connection files pin it. */
    public byte[] logKey() {
        try {
            return keyBroker.broker().logKey().publicKey();
        } catch (io.sealstream.keybroker.api.KeyBrokerException e) {
            throw new IllegalStateException("the stack's key broker has no log key: " + e.getMessage(), e);
        }
    }

    public KeyBrokerServer keyBroker() {
        return keyBroker;
    }

    public List<TeeWorker> workers() {
        return List.copyOf(workers);
    }

    /** The first engine the workers share (embeddings); call it directly to compare with the pipeline. */
    public InferenceEngine engine() {
        return engines.get(0);
    }

    /** Every engine the workers share, the embeddings engine first. */
    public List<InferenceEngine> engines() {
        return List.copyOf(engines);
    }

    /** The engine serving {@code model}. */
    public Optional<InferenceEngine> engineFor(String model) {
        return engines.stream().filter(e -> e.models().contains(model)).findFirst();
    }

    /**
     * Changes the running key broker's policy as its owner would ({@code sealstream key-broker
     * policy}): {@code edit} gets the policy in force as canonical YAML and returns the new one.
     * Clients built afterwards pin the new policy id.
     */
    public PolicyChanged changePolicy(java.util.function.UnaryOperator<String> edit) {
        String next = edit.apply(policy.toYaml());
        try {
            PolicyChanged changed = OwnerPolicyChange.apply(new KeyBrokerClient(keyBroker.url(), Duration.ofSeconds(10)),
                    ownerKey, policy.id(), next);
            policy = AttestationPolicy.parse(next);
            return changed;
        } catch (KeyBrokerException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("the key broker refused the owner's policy change: " + e.getMessage(), e);
        }
    }

    public AttestationPolicy policy() {
        return policy;
    }

    public Path dataDir() {
        return dataDir;
    }

    /**
     * Writes the config file of a worker process beside this stack ({@code sealstream worker
     * --config}): this stack's Kafka, registry, key broker and simulated TEE, a state directory of
     * its own in the data directory, {@code more} on top.
     */
    public Path writeWorkerConfig(String workerId, Map<String, String> more) {
        return new WorkerSite(kafka.bootstrapServers(), kafka.isSecured() ? workerCredentialsFile() : null,
                kafka.isSecured() ? kafkaCaFile() : null, registry.url(), keyBroker.url(), options.requestTopicFamily,
                dataDir, simulatedTeeDir()).writeConfig(workerId, more);
    }

    /** Where the simulated TEE is saved, for the workers' {@code tee.simulated.dir}. */
    public Path simulatedTeeDir() {
        return dataDir.resolve("simulated-tee");
    }

    /** The request topic family: clients send to {@code <family>.<client_id>}. */
    public String requestTopicFamily() {
        return options.requestTopicFamily;
    }

    /** Blocks until every worker is ready or the timeout passes. */
    public boolean awaitWorkersReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (workers.stream().allMatch(TeeWorker::isReady)) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /**
     * Provisions a client as an operator would, through {@link ClientOnboarding}: its principal,
     * request and response topics, ACLs, quota and schemas. Workers discover the new request
     * topic within {@link StreamProcessorConfig#DEFAULT_TOPIC_DISCOVERY}.
     */
    /** Returns the client's credentials, or null on a PLAINTEXT stack (which has no principals). */
    private ClientCredentials provision(String clientId) {
        if (!kafka.isSecured()) {
            provisioner.createClientTopics(clientId);
            ClientOnboarding.registerSchemas(registry.url(), names, clientId);
            return null;
        }
        ClientCredentials credentials = ClientCredentials.generate(clientId);
        ClientOnboarding.add(provisioner, registry.url(), names, credentials, options.quota, false);
        return credentials;
    }

    /** The request topic of {@code clientId} in this stack. */
    public String requestTopicOf(String clientId) {
        return EnvelopeProtocol.requestTopicFor(options.requestTopicFamily, clientId);
    }

    /** The request topic of {@code clientId} for worker pool {@code pool}. */
    public String requestTopicOf(String clientId, String pool) {
        return EnvelopeProtocol.requestTopicFor(names.familyOf(pool), clientId);
    }

    private String developmentPolicyYaml(List<String> modelDigests) {
        Map<String, List<String>> pools = new java.util.LinkedHashMap<>();
        if (!options.pools.isEmpty()) {
            poolEngines.forEach((pool, engines) -> pools.put(pool, engines.stream().flatMap(en -> en.models().stream())
                    .sorted().toList()));
        }
        return developmentPolicyYaml("sealstream-dev-stack", modelDigests, pools, ownerKey.publicKey(),
                options.extraWorkerMeasurements);
    }

    /**
     * The development policy of a deployment on this machine (this stack, or a
     * {@link ProcessDeployment}): simulated evidence allowed, the dev images' measurements, the
     * models given, and the owner's recovery key when one is given (null: none).
     */
    public static String developmentPolicyYaml(String name, List<String> modelDigests, Map<String, List<String>> pools,
                                        byte[] ownerPublicKey, List<byte[]> extraWorkerMeasurements) {
        return String.join("\n",
                "version: 1",
                "name: " + name,
                "allow-simulated: true",
                "max-evidence-age: 5m",
                "models:",
                modelDigests.stream().map(d -> "  - '" + d + "'").collect(java.util.stream.Collectors.joining("\n")),
                pools.isEmpty() ? "" : "pools:\n" + pools.entrySet().stream()
                        .map(e -> "  " + e.getKey() + ": [" + String.join(", ", e.getValue()) + "]")
                        .collect(java.util.stream.Collectors.joining("\n")),
                "key-broker:",
                "  measurements: ['" + HexFormat.of().formatHex(BROKER_MEASUREMENT) + "']",
                ownerPublicKey == null ? "" : "  recovery-key: " + java.util.Base64.getEncoder().encodeToString(ownerPublicKey),
                "tee:",
                "  snp:",
                "    measurements:",
                "      - '" + HexFormat.of().formatHex(WORKER_MEASUREMENT) + "'",
                "      - '" + HexFormat.of().formatHex(BROKER_MEASUREMENT) + "'",
                extraWorkerMeasurements.stream().map(m -> "      - '" + HexFormat.of().formatHex(m) + "'")
                        .collect(java.util.stream.Collectors.joining("\n")),
                "    allow-debug: false",
                "    allow-migration-agent: false",
                "");
    }

    private <T extends AutoCloseable> T track(T closeable) {
        closeables.add(closeable);
        return closeable;
    }

    /** Stops workers, engines and services, newest first; a second call does nothing. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (TeeWorker w : workers) {
            w.close();
        }
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                LOG.warn("stack.close_failed part={} error={}", closeables.get(i).getClass().getSimpleName(),
                        e.getClass().getSimpleName());
            }
        }
        if (ownsDataDir) {
            deleteTree(dataDir);
        }
        LOG.info("stack.stopped");
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("stack.cleanup_failed dir={} error={}", dir, e.getClass().getSimpleName());
        }
    }

    static byte[] sha384(String label) {
        try {
            return MessageDigest.getInstance("SHA-384").digest(label.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Options of the stack. */
    public static final class Options {
        private int workers = 2;
        private int partitions = 4;
        private List<String> clients = List.of("demo");
        private String requestTopicFamily = StreamProcessorConfig.DEFAULT_REQUEST_TOPIC_FAMILY;
        private Path dataDir;
        private int maxBatchSize = StreamProcessorConfig.DEFAULT_MAX_BATCH_SIZE;
        private Duration batchLinger = StreamProcessorConfig.DEFAULT_BATCH_LINGER;
        private Duration commitInterval = StreamProcessorConfig.DEFAULT_COMMIT_INTERVAL;
        private Duration transactionTimeout;
        private final Map<String, Object> streamsConfig = new java.util.LinkedHashMap<>();
        private Supplier<InferenceEngine> engine;
        private Path chatModel;
        private boolean plaintextKafka;
        private final Map<String, PoolSpec> pools = new java.util.LinkedHashMap<>();
        private Rotation rotation;
        private Duration leaseTtl;
        private final List<byte[]> extraWorkerMeasurements = new ArrayList<>();

        /** Also admit workers whose simulated TEE reports {@code measurement}: for revocation tests. */
        public Options allowWorkerMeasurement(byte[] measurement) {
            extraWorkerMeasurements.add(measurement.clone());
            return this;
        }

        /** How long a worker's lease lasts without renewal (default 15 min): for revocation tests. */
        public Options leaseTtl(Duration leaseTtl) {
            this.leaseTtl = leaseTtl;
            return this;
        }

        /** Key rotation faster than the defaults (hourly): for rotation tests and benchmarks. */
        record Rotation(Duration interval, Duration pendingLead, Duration workerRefresh) {
        }

        /**
         * Rotate every topic key every {@code interval}, publishing the next one to workers
         * {@code pendingLead} ahead; workers refresh every {@code workerRefresh}; the broker checks
         * every second.
         */
        public Options keyRotation(Duration interval, Duration pendingLead, Duration workerRefresh) {
            this.rotation = new Rotation(interval, pendingLead, workerRefresh);
            return this;
        }

        /** One worker pool: {@code workers} workers, each serving the engine {@code engine} gives. */
        record PoolSpec(int workers, Supplier<InferenceEngine> engine) {
        }

        /**
         * Run worker pool {@code name} ({@code default} reads the base family) with {@code workers}
         * workers serving {@code engine}'s models; the policy then names each pool's models, and
         * clients send each request to the pool that serves its model. Replaces {@link #workers},
         * {@link #engine} and {@link #chatModel}.
         */
        public Options pool(String name, int workers, Supplier<InferenceEngine> engine) {
            pools.put(name, new PoolSpec(workers, Objects.requireNonNull(engine)));
            return this;
        }
        private ClientQuota quota = ClientQuota.DEFAULT;

        /**
         * Run Kafka PLAINTEXT without an authorizer, as before tenancy: only for measuring what
         * SASL_SSL and ACLs cost, side by side.
         */
        public Options plaintextKafka() {
            this.plaintextKafka = true;
            return this;
        }

        /** The quota every client of this stack gets; default {@link ClientQuota#DEFAULT}. */
        public Options quota(ClientQuota quota) {
            this.quota = Objects.requireNonNull(quota);
            return this;
        }

        public Options workers(int workers) {
            this.workers = workers;
            return this;
        }

        public Options partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        public Options clients(List<String> clients) {
            this.clients = List.copyOf(clients);
            return this;
        }

        public Options dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Options maxBatchSize(int maxBatchSize) {
            this.maxBatchSize = maxBatchSize;
            return this;
        }

        public Options batchLinger(Duration batchLinger) {
            this.batchLinger = batchLinger;
            return this;
        }

        /** The workers' commit interval (default {@link StreamProcessorConfig#DEFAULT_COMMIT_INTERVAL}). */
        public Options commitInterval(Duration commitInterval) {
            this.commitInterval = commitInterval;
            return this;
        }

        /** The workers' transaction timeout (twice it, one batch means a hung engine): for tests of that bound. */
        public Options transactionTimeout(Duration transactionTimeout) {
            this.transactionTimeout = transactionTimeout;
            return this;
        }

        /** A Kafka Streams, consumer or producer setting of every worker: for benchmarks that tune them. */
        public Options workerStreamsConfig(String key, Object value) {
            streamsConfig.put(key, value);
            return this;
        }

        /** Also serve chat with this GGUF model (a llama.cpp engine beside the embeddings one). */
        public Options chatModel(Path gguf) {
            this.chatModel = gguf;
            return this;
        }

        /** The inference engine the workers share; required. */
        public Options engine(Supplier<InferenceEngine> engine) {
            this.engine = Objects.requireNonNull(engine);
            return this;
        }
    }
}
