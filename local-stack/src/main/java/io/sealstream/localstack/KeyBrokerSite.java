package io.sealstream.localstack;

import io.sealstream.keybroker.KeyBrokerSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The development key broker of a deployment the CLI starts or writes files for (the process
 * deployment on loopback, docker/compose.yaml's): the one place its config file is written. The
 * TEE is simulated and custody is the development one: these deployments run on machines without
 * a TEE.
 *
 * @param address the address it listens on (loopback, or every interface of a container)
 * @param port its API's port
 * @param metricsPort the port of its {@code /metrics}, on the same address
 * @param dataDir its data directory, as the key broker sees it
 * @param policyFile the policy, as the key broker sees it
 * @param simulatedTeeDir the simulated TEE, as the key broker sees it
 * @param audit where its audit events go: the deployment's Kafka as the key broker's principal
 */
public record KeyBrokerSite(String address, int port, int metricsPort, Path dataDir, Path policyFile, Path simulatedTeeDir,
                            AuditSite audit) {

    /**
     * The audit topic's cluster as the key broker reaches it: {@code credentialsFile} is what
     * {@code sealstream workers provision} wrote for it; all paths as the key broker sees them.
     * {@code producer} names its chain, fixed so that a new container continues it.
     */
    public record AuditSite(String bootstrapServers, Path credentialsFile, Path caFile, String registryUrl,
                            String producer) {
    }

    public Map<String, String> settings() {
        Map<String, String> s = new TreeMap<>();
        s.put(KeyBrokerSettings.BIND_ADDRESS.name(), address);
        s.put(KeyBrokerSettings.PORT.name(), Integer.toString(port));
        s.put(KeyBrokerSettings.METRICS_ADDRESS.name(), address);
        s.put(KeyBrokerSettings.METRICS_PORT.name(), Integer.toString(metricsPort));
        s.put(KeyBrokerSettings.DATA_DIR.name(), dataDir.toString());
        s.put(KeyBrokerSettings.POLICY_FILE.name(), policyFile.toString());
        s.put(KeyBrokerSettings.CUSTODY.name(), "dev");
        s.put(KeyBrokerSettings.TEE.name(), "simulated");
        s.put(KeyBrokerSettings.SIMULATED_TEE_DIR.name(), simulatedTeeDir.toString());
        s.put(KeyBrokerSettings.AUDIT_SINK.name(), "kafka");
        s.put(KeyBrokerSettings.AUDIT_PRODUCER.name(), audit.producer());
        s.put(KeyBrokerSettings.KAFKA.bootstrapServers().name(), audit.bootstrapServers());
        s.put(KeyBrokerSettings.KAFKA.credentialsFile().name(), audit.credentialsFile().toString());
        s.put(KeyBrokerSettings.KAFKA.caFile().name(), audit.caFile().toString());
        s.put(KeyBrokerSettings.REGISTRY_URL.name(), audit.registryUrl());
        return s;
    }

    /** Writes {@link #settings} to {@code file}. */
    public Path writeConfig(Path file, String writtenBy) {
        return ConfigFiles.write(file, writtenBy, settings());
    }
}
