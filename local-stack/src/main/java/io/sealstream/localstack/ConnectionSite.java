package io.sealstream.localstack;

import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.client.ConnectionFile;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * What a connection file of a development deployment (the embedded stack, the process
 * deployment, compose's) holds: its addresses, the development key broker's measurement, the
 * policy and simulated TEE clients pin, the Kafka CA. The one place these deployments' connection
 * files are assembled.
 *
 * @param kafkaCaPem the CA of the brokers' certificates; null for a PLAINTEXT benchmark broker
 * @param logKey the key broker's transparency log key (X.509); null where the files are written
 *     before the key broker first runs (compose's), and {@code clients add} asks it then
 */
public record ConnectionSite(String bootstrapServers, String registryUrl, String keyBrokerUrl, KafkaNames names,
                      String policyId, Path simulatedTeeDir, String kafkaCaPem, byte[] logKey) {

    /** The connection without a principal: a client's or the admin's gets its credentials added. */
    public ConnectionFile base() {
        ConnectionFile c = new ConnectionFile(bootstrapServers, registryUrl, keyBrokerUrl, names.requestTopicFamily(),
                HexFormat.of().formatHex(SimulatedSnpTee.devBrokerMeasurement()), policyId, simulatedTeeDir,
                KafkaSecurity.Protocol.PLAINTEXT, kafkaCaPem, null, names.pools(), null, null, null);
        return logKey == null ? c : c.withLogKey(logKey);
    }

    /**
     * Writes the admin principal's connection file to {@code file} and, beside it, its owner-only
     * {@code admin.credentials}: what the provisioning commands' {@code --admin FILE} reads.
     *
     * @param adminPassword the admin's SCRAM password; null for a PLAINTEXT broker (no credentials)
     */
    public ConnectionFile writeAdmin(Path file, String adminUser, String adminPassword) {
        ConnectionFile c = base();
        if (adminPassword != null) {
            Path creds = file.toAbsolutePath().resolveSibling("admin.credentials");
            new ClientCredentials(adminUser, adminPassword).write(creds);
            c = c.withCredentials(creds);
        }
        c.write(file);
        return c;
    }
}
