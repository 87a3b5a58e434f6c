package io.sealstream.devstack.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.Uuid;

/**
 * The files of a development cluster whose nodes run elsewhere (the {@code kafka-N} containers of
 * docker/compose.yaml), written by the code that configures the process cluster
 * ({@link KafkaNodeConfig}), so both are the same cluster but for host names: each node's server
 * properties, the CA certificate, and each node's data directory formatted here, with the
 * bootstrap principals, so no password ever travels on a command line.
 */
public final class KafkaClusterFiles {
    /** The cluster id every node is formatted with. */
    public static final String CLUSTER_ID_FILE = "cluster.id";
    /** The CA that signs the brokers' certificate, for clients. */
    public static final String CA_FILE = "kafka-ca.pem";
    /** The admin principal, a super user, as KafkaNodeConfig names it. */
    public static final String ADMIN_USER = KafkaNodeConfig.ADMIN_USER;

    private KafkaClusterFiles() {
    }

    /** The properties file of node {@code id}. */
    public static String nodeFile(int id) {
        return "node-" + id + ".properties";
    }

    /**
     * What was written: the bootstrap servers, the admin principal's password and the CA, for the
     * files of the services that use the cluster.
     */
    public record Written(String bootstrapServers, String adminPassword, String caCertificatePem) {
        @Override
        public String toString() {
            return "KafkaClusterFiles.Written[" + bootstrapServers + ", admin password redacted]";
        }
    }

    /**
     * Writes the files of a cluster of {@code hosts.size()} nodes into {@code dir}: node {@code i}
     * (from 1) is dialled as {@code hosts[i-1]}, listens on {@code brokerPort} and
     * {@code controllerPort}, and keeps its data in {@code logDir} (a path on the node), which is
     * {@code dataDir/hosts[i-1]} here, formatted. Refuses to overwrite: a second run would give the
     * nodes a new CA and passwords that their formatted data does not know.
     */
    public static Written write(Path dir, Path dataDir, List<String> hosts, int brokerPort, int controllerPort,
                                String logDir) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("a cluster has at least one node");
        }
        List<KafkaNodeConfig.Node> nodes = new ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            nodes.add(new KafkaNodeConfig.Node(i + 1, hosts.get(i), brokerPort, controllerPort));
        }
        DevSecrets secrets = DevSecrets.create(hosts);
        try {
            Files.createDirectories(dir);
            String clusterId = Uuid.randomUuid().toString();
            for (KafkaNodeConfig.Node n : nodes) {
                KafkaNodeConfig config = new KafkaNodeConfig(n.id(), nodes, Path.of(logDir), secrets, Map.of());
                storeOwnerOnly(dir.resolve(nodeFile(n.id())), config.properties(), "Kafka node " + n.id() + " ("
                        + n.host() + ") of a development cluster; holds the broker's key");
                Path data = dataDir.resolve(n.host());
                if (Files.exists(data)) {
                    try (var entries = Files.list(data)) {
                        if (entries.findAny().isPresent()) {
                            throw new IllegalStateException(data + " holds an earlier node's data; remove it first");
                        }
                    }
                }
                Files.createDirectories(data);
                Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
                new KafkaNodeConfig(n.id(), nodes, data, secrets, Map.of()).format(clusterId);
            }
            writeNew(dir.resolve(CLUSTER_ID_FILE), clusterId + "\n");
            writeNew(dir.resolve(CA_FILE), secrets.ca().caCertificatePem());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Kafka cluster's files into " + dir
                    + " (it must be writable and not hold an earlier cluster's files)", e);
        }
        return new Written(KafkaNodeConfig.bootstrapServers(nodes), secrets.adminPassword(), secrets.ca().caCertificatePem());
    }

    static void storeOwnerOnly(Path file, Properties p, String comment) throws IOException {
        try (Writer w = java.nio.channels.Channels.newWriter(Files.newByteChannel(file,
                java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))), StandardCharsets.UTF_8)) {
            p.store(w, comment);
        }
    }

    /** Writes a new file others may read: nothing secret. */
    private static void writeNew(Path file, String text) throws IOException {
        try (Writer w = java.nio.channels.Channels.newWriter(Files.newByteChannel(file,
                java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--"))),
                StandardCharsets.UTF_8)) {
            w.write(text);
        }
    }
}
