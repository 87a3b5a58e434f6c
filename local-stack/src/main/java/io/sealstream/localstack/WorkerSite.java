package io.sealstream.localstack;

import io.sealstream.worker.WorkerSettings;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a worker process started beside a deployment on this machine (the embedded stack, or
 * the processes of cli's ProcessDeployment) needs to find it: the one place their worker config
 * files are written.
 *
 * @param credentialsFile the workers' Kafka credentials; null for a PLAINTEXT benchmark broker
 * @param caFile the Kafka CA's certificate; null with a PLAINTEXT broker
 * @param dataDir the deployment's directory: config files, state directories and logs go under {@code workers/}
 */
public record WorkerSite(String bootstrapServers, Path credentialsFile, Path caFile, String registryUrl, String keyBrokerUrl,
                  String requestTopicFamily, Path dataDir, Path simulatedTeeDir) {

    /**
     * The settings every worker of this site shares: its Kafka, registry, key broker and simulated
     * TEE; no id, state directory or health port (a compose service sets its id by variable).
     */
    public Map<String, String> sharedSettings() {
        Map<String, String> s = new TreeMap<>();
        s.put(WorkerSettings.KAFKA.bootstrapServers().name(), bootstrapServers);
        if (credentialsFile != null) {
            s.put(WorkerSettings.KAFKA.credentialsFile().name(), credentialsFile.toString());
            s.put(WorkerSettings.KAFKA.caFile().name(), caFile.toString());
        } else {
            s.put(WorkerSettings.KAFKA.securityProtocol().name(), "PLAINTEXT");
        }
        s.put(WorkerSettings.REGISTRY_URL.name(), registryUrl);
        s.put(WorkerSettings.KEY_BROKER_URL.name(), keyBrokerUrl);
        s.put(WorkerSettings.TEE.name(), "simulated");
        s.put(WorkerSettings.SIMULATED_TEE_DIR.name(), simulatedTeeDir.toString());
        s.put(WorkerSettings.REQUEST_TOPIC_FAMILY.name(), requestTopicFamily);
        return s;
    }

    /**
     * One worker's settings: {@link #sharedSettings}, a state directory of its own, a free health
     * port; {@code more} on top.
     */
    public Map<String, String> settings(String workerId, Map<String, String> more) {
        Map<String, String> s = sharedSettings();
        s.put(WorkerSettings.WORKER_ID.name(), workerId);
        s.put(WorkerSettings.STATE_DIR.name(), dataDir.resolve("workers").resolve(workerId).toString());
        s.put(WorkerSettings.HEALTH_PORT.name(), "0");
        s.putAll(more);
        return s;
    }

    /** Writes {@link #settings} to {@code workers/<workerId>.properties} in the data directory. */
    public Path writeConfig(String workerId, Map<String, String> more) {
        return ConfigFiles.write(dataDir.resolve("workers").resolve(workerId + ".properties"),
                "a worker of the deployment in " + dataDir, settings(workerId, more));
    }
}
