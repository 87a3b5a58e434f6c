package io.sealstream.cli.stack;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.devstack.kafka.KafkaClusterFiles;
import io.sealstream.localstack.ConfigFiles;
import io.sealstream.localstack.ConnectionSite;
import io.sealstream.localstack.KeyBrokerSite;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.WorkerSite;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.worker.WorkerSettings;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The files docker/compose.yaml mounts under {@value #MOUNT}, one directory per audience so that
 * each service mounts only what it needs: {@value #KAFKA_DIR} (the nodes' settings and the CA;
 * their data directories are formatted here too, so no password travels on a command line),
 * {@value #KEY_BROKER_DIR} (its config, the policy and the Kafka CA), {@value #WORKER_DIR} (its
 * config and the Kafka CA), {@value #SIMULATED_TEE} (the development TEE, for the key broker and
 * the workers alone), {@value #ADMIN_DIR} (the admin connection, for the provisioning job alone),
 * {@value #PROVISIONED} (what that job writes for the workers) and {@value #KEY_BROKER_PROVISIONED}
 * (what it writes for the key broker). They are written by the code that
 * configures the process deployment on loopback ({@link ProcessDeployment}, which
 * {@code DeploymentTest} runs), so the two differ in host names and paths only. The names below
 * are the ones compose.yaml uses; {@code ComposeFileTest} checks that they agree.
 */
public final class ComposeFiles {
    /** Where the compose services see the directories this writes. */
    public static final String MOUNT = "/deploy";
    public static final List<String> KAFKA_HOSTS = List.of("kafka-1", "kafka-2", "kafka-3");
    public static final int KAFKA_PORT = 9092;
    public static final int KAFKA_CONTROLLER_PORT = 9093;
    /** The Kafka nodes' data directory in their containers. */
    public static final String KAFKA_DATA = "/var/lib/kafka/data";
    public static final String REGISTRY_URL = "http://registry:8080/apis/ccompat/v7";
    public static final String KEY_BROKER_URL = "http://key-broker:8090";
    public static final int KEY_BROKER_PORT = 8090;
    /** The key broker's /metrics port (docker/prometheus/prometheus.yml scrapes it). */
    public static final int KEY_BROKER_METRICS_PORT = 8091;
    /** The key broker's name in the audit chain: a container's host name changes when it is created again. */
    public static final String KEY_BROKER_AUDIT_PRODUCER = "key-broker/compose";
    /** The key broker's data directory in its container. */
    public static final String KEY_BROKER_DATA = "/var/lib/sealstream/key-broker";
    /** Each worker's state directory in its container. */
    public static final String WORKER_STATE = "/var/lib/sealstream/worker";
    public static final int WORKER_HEALTH_PORT = 8080;
    public static final String KAFKA_DIR = "kafka";
    public static final String KEY_BROKER_DIR = "key-broker";
    public static final String WORKER_DIR = "worker";
    public static final String ADMIN_DIR = "admin";
    public static final String SIMULATED_TEE = "simulated-tee";
    /** Where the provisioning job writes worker.credentials. */
    public static final String PROVISIONED = "provisioned";
    /** Where it writes key-broker.credentials: apart, so the workers never mount the key broker's password. */
    public static final String KEY_BROKER_PROVISIONED = "provisioned-key-broker";
    /** The Kafka nodes' and the key broker's data directories, one per service under it, never mounted whole. */
    public static final String DATA = "data";
    public static final String KEY_BROKER_CONFIG = KEY_BROKER_DIR + "/key-broker.properties";
    public static final String POLICY = KEY_BROKER_DIR + "/policy.yaml";
    public static final String WORKER_CONFIG = WORKER_DIR + "/worker.properties";
    public static final String ADMIN_CONNECTION = ADMIN_DIR + "/admin.connection";

    private ComposeFiles() {
    }

    /** What {@link #write} wrote, for the command's summary. */
    public record Written(Path dir, String policyId) {
    }

    /**
     * Writes every file into {@code out} (which must not hold an earlier deployment's files: the
     * Kafka nodes' data would not know a new CA and passwords).
     */
    public static Written write(Path out) {
        Path mount = Path.of(MOUNT);
        try {
            Files.createDirectories(out);
            if (Files.exists(out.resolve(KAFKA_DIR)) || Files.exists(out.resolve(DATA))) {
                throw new IllegalStateException(out + " already holds a deployment's files; remove it (with the Kafka "
                        + "and key broker data under " + DATA + "/) or choose another directory");
            }
            KafkaClusterFiles.Written kafka = KafkaClusterFiles.write(out.resolve(KAFKA_DIR), out.resolve(DATA), KAFKA_HOSTS,
                    KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_DATA);
            Path kafkaCa = mount.resolve(KAFKA_DIR).resolve(KafkaClusterFiles.CA_FILE);
            SimulatedSnpTee.generate().save(out.resolve(SIMULATED_TEE));
            String policyYaml = LocalStack.developmentPolicyYaml("sealstream-compose",
                    List.of(HexFormat.of().formatHex(new SyntheticEngine().modelDigest())), Map.of(), null, List.of());
            Files.createDirectories(out.resolve(KEY_BROKER_DIR));
            Files.writeString(out.resolve(POLICY), policyYaml);
            AttestationPolicy policy = AttestationPolicy.parse(policyYaml);
            KafkaNames names = KafkaNames.DEFAULTS;

            ownerOnlyDirectory(out.resolve(ADMIN_DIR));
            new ConnectionSite(kafka.bootstrapServers(), REGISTRY_URL, KEY_BROKER_URL, names, policy.id(),
                    mount.resolve(SIMULATED_TEE), kafka.caCertificatePem(), null) // the key broker has not run yet
                    .writeAdmin(out.resolve(ADMIN_CONNECTION), KafkaClusterFiles.ADMIN_USER, kafka.adminPassword());

            Files.writeString(out.resolve(KEY_BROKER_DIR).resolve(KafkaClusterFiles.CA_FILE), kafka.caCertificatePem());
            new KeyBrokerSite("0.0.0.0", KEY_BROKER_PORT, KEY_BROKER_METRICS_PORT, Path.of(KEY_BROKER_DATA), mount.resolve(POLICY),
                    mount.resolve(SIMULATED_TEE), new KeyBrokerSite.AuditSite(kafka.bootstrapServers(),
                            mount.resolve(KEY_BROKER_PROVISIONED).resolve("key-broker.credentials"),
                            mount.resolve(KEY_BROKER_DIR).resolve(KafkaClusterFiles.CA_FILE), REGISTRY_URL,
                            KEY_BROKER_AUDIT_PRODUCER))
                    .writeConfig(out.resolve(KEY_BROKER_CONFIG), "the key broker of docker/compose.yaml");

            Files.createDirectories(out.resolve(WORKER_DIR));
            Files.writeString(out.resolve(WORKER_DIR).resolve(KafkaClusterFiles.CA_FILE), kafka.caCertificatePem());
            Map<String, String> worker = new TreeMap<>(new WorkerSite(kafka.bootstrapServers(),
                    mount.resolve(PROVISIONED).resolve("worker.credentials"),
                    mount.resolve(WORKER_DIR).resolve(KafkaClusterFiles.CA_FILE), REGISTRY_URL, KEY_BROKER_URL,
                    names.requestTopicFamily(), mount, mount.resolve(SIMULATED_TEE)).sharedSettings());
            worker.put(WorkerSettings.STATE_DIR.name(), WORKER_STATE);
            worker.put(WorkerSettings.ENGINE.name(), "synthetic");
            worker.put(WorkerSettings.HEALTH_ADDRESS.name(), "0.0.0.0");
            worker.put(WorkerSettings.HEALTH_PORT.name(), Integer.toString(WORKER_HEALTH_PORT));
            worker.put(WorkerSettings.COMMIT_INTERVAL.name(),
                    Long.toString(StreamProcessorConfig.REPLICATED_COMMIT_INTERVAL.toMillis()));
            ConfigFiles.write(out.resolve(WORKER_CONFIG), "every worker of docker/compose.yaml; each sets its "
                    + WorkerSettings.SCHEMA.envName(WorkerSettings.WORKER_ID), worker);
            ownerOnlyDirectory(out.resolve(PROVISIONED));
            ownerOnlyDirectory(out.resolve(KEY_BROKER_PROVISIONED));
            ownerOnlyDirectory(out.resolve(DATA).resolve("key-broker"));
            return new Written(out, policy.id());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the compose deployment's files into " + out, e);
        }
    }

    private static void ownerOnlyDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    }

}
