package io.sealstream.devstack.kafka;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * The settings of one KRaft node (broker and controller in one) of a development cluster of
 * {@code voters.size()} nodes on loopback: the one place the dev stack's broker configuration is
 * written, for the in-process {@link EmbeddedKafka} (one node) and the multi-process
 * {@link KafkaCluster} (three). Secured as a deployment is (see {@link EmbeddedKafka}) unless
 * {@code secrets} is null.
 *
 * @param nodeId this node's id, one of the voters'
 * @param voters every node: id, client port, controller port
 * @param logDir this node's data directory (log and metadata)
 * @param secrets the development CA and bootstrap passwords; null for the plaintext benchmark broker
 * @param overrides any broker setting, applied last
 */
record KafkaNodeConfig(int nodeId, List<Node> voters, Path logDir, DevSecrets secrets, Map<String, String> overrides) {
    static final String LOOPBACK = "127.0.0.1";
    /** The provisioning principal of a secured cluster: a super user, used for nothing else. */
    static final String ADMIN_USER = "sealstream-admin";
    static final String BROKER_USER = "sealstream-broker";
    static final String SCRAM = "SCRAM-SHA-512";
    /** Where a secured development broker or cluster keeps its CA and bootstrap passwords, in its data directory. */
    static final String SECRETS_FILE = "sealstream-dev-security.properties";

    /**
     * One node: its id, the name others dial it by, and its ports. A node on loopback listens on
     * loopback only; one with a host name (a container's) listens on every interface of its
     * network namespace.
     */
    record Node(int id, String host, int brokerPort, int controllerPort) {
        static Node loopback(int id, int brokerPort, int controllerPort) {
            return new Node(id, LOOPBACK, brokerPort, controllerPort);
        }

        String bindAddress() {
            return LOOPBACK.equals(host) ? LOOPBACK : "0.0.0.0";
        }
    }

    KafkaNodeConfig {
        voters = List.copyOf(voters);
        overrides = Map.copyOf(overrides);
    }

    Node self() {
        return voters.stream().filter(n -> n.id() == nodeId).findFirst().orElseThrow();
    }

    /** {@code 127.0.0.1:port,...} of every node's client listener. */
    static String bootstrapServers(List<Node> nodes) {
        return nodes.stream().map(n -> n.host() + ":" + n.brokerPort()).collect(Collectors.joining(","));
    }

    /**
     * Internal topics get as many replicas as there are nodes, up to 3, and need two in sync from
     * three nodes on: a cluster of three survives the loss of one without losing an acknowledged
     * write. User topics (created with the broker's default, as the provisioner does) follow the same.
     */
    Properties properties() {
        Node self = self();
        int replicas = Math.min(3, voters.size());
        String minIsr = replicas >= 3 ? "2" : "1";
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(nodeId));
        p.put("controller.quorum.voters", voters.stream().map(n -> n.id() + "@" + n.host() + ":" + n.controllerPort())
                .collect(Collectors.joining(",")));
        p.put("controller.listener.names", "CONTROLLER");
        if (secrets == null) {
            p.put("listeners", "PLAINTEXT://" + self.bindAddress() + ":" + self.brokerPort() + ",CONTROLLER://"
                    + self.bindAddress() + ":" + self.controllerPort());
            p.put("advertised.listeners", "PLAINTEXT://" + self.host() + ":" + self.brokerPort());
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("inter.broker.listener.name", "PLAINTEXT");
        } else {
            securedListeners(p, self);
        }
        p.put("log.dirs", logDir.toString());
        p.put("metadata.log.dir", logDir.toString());
        p.put("default.replication.factor", Integer.toString(replicas));
        p.put("min.insync.replicas", minIsr);
        p.put("offsets.topic.replication.factor", Integer.toString(replicas));
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", Integer.toString(replicas));
        p.put("transaction.state.log.min.isr", minIsr);
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.replication.factor", Integer.toString(replicas));
        p.put("share.coordinator.state.topic.min.isr", minIsr);
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
        p.putAll(overrides);
        return p;
    }

    /**
     * Clients and the inter-broker path: SASL_SSL with SCRAM; the controllers: mutual TLS with the
     * broker certificate, whose subject is a super user. No listener is unauthenticated.
     */
    private void securedListeners(Properties p, Node self) {
        DevCertificateAuthority ca = secrets.ca();
        p.put("listeners", "BROKER://" + self.bindAddress() + ":" + self.brokerPort() + ",CONTROLLER://"
                + self.bindAddress() + ":" + self.controllerPort());
        p.put("advertised.listeners", "BROKER://" + self.host() + ":" + self.brokerPort());
        p.put("listener.security.protocol.map", "BROKER:SASL_SSL,CONTROLLER:SSL");
        p.put("inter.broker.listener.name", "BROKER");
        p.put("sasl.enabled.mechanisms", SCRAM);
        // a removed or re-keyed principal's open connections must log in again within this, or close
        p.put("connections.max.reauth.ms", Long.toString(EmbeddedKafka.REAUTHENTICATE_AFTER.toMillis()));
        p.put("sasl.mechanism.inter.broker.protocol", SCRAM);
        p.put("listener.name.broker.scram-sha-512.sasl.jaas.config", jaas(BROKER_USER, secrets.brokerPassword()));
        p.put("ssl.keystore.type", "PEM");
        p.put("ssl.keystore.certificate.chain", ca.brokerCertificatePem());
        p.put("ssl.keystore.key", ca.brokerKeyPem());
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.certificates", ca.caCertificatePem());
        p.put("ssl.endpoint.identification.algorithm", "https");
        p.put("listener.name.controller.ssl.client.auth", "required");
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("allow.everyone.if.no.acl.found", "false");
        p.put("super.users", "User:" + ADMIN_USER + ";User:" + BROKER_USER + ";User:" + DevCertificateAuthority.BROKER_SUBJECT);
    }

    /**
     * Connection settings of a client of {@code bootstrapServers} that logs in as {@code user}: on a
     * secured broker ({@code secrets} not null) SASL_SSL with SCRAM-SHA-512, trusting the development CA.
     */
    static Map<String, Object> clientConfig(String bootstrapServers, DevSecrets secrets, String user, String password) {
        Map<String, Object> c = new java.util.HashMap<>();
        c.put("bootstrap.servers", bootstrapServers);
        if (secrets != null) {
            c.put("security.protocol", "SASL_SSL");
            c.put("sasl.mechanism", SCRAM);
            c.put("sasl.jaas.config", jaas(user, password));
            c.put("ssl.truststore.type", "PEM");
            c.put("ssl.truststore.certificates", secrets.ca().caCertificatePem());
        }
        return c;
    }

    static String jaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    /** Formats this node's storage for cluster {@code clusterId}, with the bootstrap SCRAM principals of a secured cluster. */
    void format(String clusterId) {
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setNodeId(nodeId)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(logDir.toString()))
                    .setMetadataLogDirectory(logDir.toString())
                    .setControllerListenerName("CONTROLLER")
                    .setScramArguments(secrets == null ? List.of() : List.of(
                            SCRAM + "=[name=" + ADMIN_USER + ",password=" + secrets.adminPassword() + "]",
                            SCRAM + "=[name=" + BROKER_USER + ",password=" + secrets.brokerPassword() + "]"))
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("formatting Kafka storage in " + logDir + " failed", e);
        }
    }
}
