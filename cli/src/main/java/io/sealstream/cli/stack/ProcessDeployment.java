package io.sealstream.cli.stack;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.cli.SealstreamCommand;
import io.sealstream.client.BrokerTrust;
import io.sealstream.client.LogTrust;
import io.sealstream.client.SealstreamClient;
import io.sealstream.devstack.LoopbackPorts;
import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.kafka.KafkaCluster;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.localstack.ConnectionSite;
import io.sealstream.localstack.KeyBrokerSite;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackEndpoints;
import io.sealstream.localstack.WorkerSite;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientOnboarding;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import io.sealstream.worker.WorkerSettings;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Sealstream deployed as separate processes on loopback, as on separate machines: a Kafka cluster
 * of KRaft node processes (three: replication factor 3, {@code min.insync.replicas} 2), the
 * registry as a child process, the key broker from its own jar and config file, and workers from
 * theirs ({@link #writeWorkerConfig}, for {@code WorkerProcesses}). The TEEs are simulated and the
 * engine is the synthetic one, so what is tested is the deployment: processes, configuration,
 * failover. Clients are provisioned as {@code sealstream clients add} does.
 */
public final class ProcessDeployment implements StackEndpoints, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessDeployment.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
    /** The key broker process's name in the audit chain. */
    public static final String KEY_BROKER_AUDIT_PRODUCER = "key-broker/process-deployment";

    private final Path dir;
    /** What the constructor started, closed in reverse if a later step fails. */
    private final java.util.Deque<AutoCloseable> started = new java.util.ArrayDeque<>();
    private final KafkaCluster kafka;
    private final KafkaNames names = KafkaNames.DEFAULTS;
    private final ClientProvisioner provisioner;
    private final SchemaRegistryServer registry;
    private final SimulatedSnpTee tee = SimulatedSnpTee.shared();
    private final AttestationPolicy policy;
    private final int keyBrokerPort = LoopbackPorts.free();
    private final Process keyBroker;
    private final Map<String, KafkaSecurity> clients = new ConcurrentHashMap<>();

    /** A constructor step failed; {@link #deployment} holds what had started. */
    private static final class StartFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final transient ProcessDeployment deployment;

        StartFailed(ProcessDeployment deployment, Throwable cause) {
            super(cause);
            this.deployment = deployment;
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        started.push(resource);
        return resource;
    }

    private ProcessDeployment(Path dir, int kafkaNodes, int partitions) {
        this.dir = dir;
        try {
            this.kafka = track(KafkaCluster.start(kafkaNodes, dir.resolve("kafka")));
            this.provisioner = track(new ClientProvisioner(kafka.adminClientConfig(), names, partitions));
            this.registry = track(SchemaRegistryServer.start());
            tee.save(dir.resolve("simulated-tee"));
            String policyYaml = LocalStack.developmentPolicyYaml("sealstream-process-deployment",
                    List.of(HexFormat.of().formatHex(new SyntheticEngine().modelDigest())), Map.of(), null, List.of());
            Files.writeString(dir.resolve("policy.yaml"), policyYaml);
            this.policy = AttestationPolicy.parse(policyYaml);
            Files.writeString(dir.resolve("kafka-ca.pem"), kafka.caCertificatePem().orElseThrow());
            // as an operator prepares a cluster (docs/deployment.md): the workers' principal, ACLs and DLQ
            Path admin = writeAdminConnection();
            // the key broker's credentials apart from the workers', as compose.yaml's provisioning job writes them
            int provisioned = new CommandLine(new SealstreamCommand()).execute("workers", "provision", "--admin", admin.toString(),
                    "--out", dir.toString(), "--key-broker-out", dir.resolve("key-broker-provisioned").toString(),
                    "--partitions", Integer.toString(partitions));
            if (provisioned != 0) {
                throw new IllegalStateException("sealstream workers provision failed with status " + provisioned);
            }
            Path config = new KeyBrokerSite("127.0.0.1", keyBrokerPort, LoopbackPorts.free(), dir.resolve("key-broker"),
                    dir.resolve("policy.yaml"), dir.resolve("simulated-tee"),
                    new KeyBrokerSite.AuditSite(kafka.bootstrapServers(),
                            dir.resolve("key-broker-provisioned").resolve("key-broker.credentials"),
                            dir.resolve("kafka-ca.pem"), registry.url(), KEY_BROKER_AUDIT_PRODUCER))
                    .writeConfig(dir.resolve("key-broker.properties"), "written by the process deployment in " + dir);
            this.keyBroker = new ProcessBuilder(ServiceCommand.KEY_BROKER.command("256m", config)).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("key-broker.log").toFile()).start();
            track(this::stopKeyBroker);
            Readiness.await(URI.create(keyBrokerUrl() + "/readyz"), keyBroker, READY_TIMEOUT, "the key broker",
                    dir.resolve("key-broker.log"));
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            throw new StartFailed(this, e);
        }
        LOG.info("deployment.ready kafka={} registry={} key_broker={}", kafka.bootstrapServers(), registry.url(),
                keyBrokerUrl());
    }

    /**
     * Starts a deployment in {@code dir}: {@code kafkaNodes} Kafka node processes, the registry and
     * the key broker; workers are started separately. The caller closes it.
     */
    public static ProcessDeployment start(Path dir, int kafkaNodes, int partitions) {
        try {
            Files.createDirectories(dir);
            return new ProcessDeployment(dir, kafkaNodes, partitions);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the deployment in " + dir, e);
        } catch (StartFailed e) {
            // every process started so far is stopped: a failed start leaves nothing running
            e.deployment.close();
            if (e.getCause() instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e.getCause() instanceof RuntimeException r ? r
                    : new IllegalStateException("the deployment in " + dir + " did not start", e.getCause());
        }
    }

    /** The admin principal's connection file, as {@code sealstream up} writes one: for the provisioning commands. */
    private Path writeAdminConnection() {
        Path file = dir.resolve("admin.connection");
        new ConnectionSite(kafka.bootstrapServers(), registry.url(), keyBrokerUrl(), names, policy.id(),
                dir.resolve("simulated-tee"), kafka.caCertificatePem().orElseThrow(), null) // before the key broker runs
                .writeAdmin(file, EmbeddedKafka.ADMIN_USER, kafka.adminPassword());
        return file;
    }

    /**
     * A worker's config file: this deployment's Kafka, registry, key broker and simulated TEE, the
     * replicated cluster's commit interval, {@code more} on top.
     */
    public Path writeWorkerConfig(String workerId, Map<String, String> more) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(WorkerSettings.COMMIT_INTERVAL.name(),
                Long.toString(StreamProcessorConfig.REPLICATED_COMMIT_INTERVAL.toMillis())));
        settings.putAll(more);
        return new WorkerSite(kafka.bootstrapServers(), dir.resolve("worker.credentials"), dir.resolve("kafka-ca.pem"),
                registry.url(), keyBrokerUrl(), names.requestTopicFamily(), dir, dir.resolve("simulated-tee"))
                .writeConfig(workerId, settings);
    }

    /**
     * Provisions {@code clientId} unless done: its topics, ACLs, quota and credentials. Workers that
     * start afterwards find its request topic at once rather than at their next topic discovery.
     */
    public KafkaSecurity provisionClient(String clientId) {
        return clients.computeIfAbsent(clientId, c -> {
            ClientCredentials credentials = ClientCredentials.generate(c);
            ClientOnboarding.add(provisioner, registry.url(), names, credentials, ClientQuota.DEFAULT, false);
            return KafkaSecurity.scram(credentials, kafka.caCertificatePem().orElseThrow());
        });
    }

    @Override
    public SealstreamClient.Builder clientBuilder(String clientId) {
        KafkaSecurity security = provisionClient(clientId);
        return SealstreamClient.builder().bootstrapServers(kafka.bootstrapServers()).schemaRegistryUrl(registry.url())
                .keyBrokerUrl(keyBrokerUrl()).clientId(clientId).kafkaSecurity(security)
                .trust(BrokerTrust.pinned(SnpVerifier.trustingDevelopmentRoot(List.of(), tee.developmentRoot()),
                        HexFormat.of().formatHex(SimulatedSnpTee.devBrokerMeasurement()), policy.id()).allowingDevCustody()
                        .withLog(LogTrust.pinned(logKey(), dir.resolve("clients.log-head"), java.time.Duration.ZERO)));
    }

    /** The key broker's transparency log key, asked of the running key broker (its process made it). */
    private byte[] logKey() {
        try {
            return new io.sealstream.keybroker.client.KeyBrokerClient(keyBrokerUrl(), java.time.Duration.ofSeconds(10))
                    .logKey().publicKey();
        } catch (io.sealstream.keybroker.api.KeyBrokerException e) {
            throw new IllegalStateException("the deployment's key broker does not serve its log key: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, Object> adminClientConfig() {
        return kafka.adminClientConfig();
    }

    @Override
    public String registryUrl() {
        return registry.url();
    }

    public String keyBrokerUrl() {
        return "http://127.0.0.1:" + keyBrokerPort;
    }

    /** The Kafka cluster, to kill and restart nodes. */
    public KafkaCluster kafka() {
        return kafka;
    }

    private void stopKeyBroker() {
        keyBroker.destroy();
        try {
            if (!keyBroker.waitFor(30, TimeUnit.SECONDS)) {
                keyBroker.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            keyBroker.destroyForcibly();
        }
    }

    /** Stops the key broker (SIGTERM), the registry and the Kafka nodes, newest first; workers are stopped by their owner. */
    @Override
    public void close() {
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                LOG.warn("deployment.close_failed error={}", e.getClass().getSimpleName());
            }
        }
    }
}
