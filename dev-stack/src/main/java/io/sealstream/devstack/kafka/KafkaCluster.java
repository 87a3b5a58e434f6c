package io.sealstream.devstack.kafka;

import io.sealstream.devstack.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka cluster of KRaft nodes (each broker and controller), every node its own JVM
 * process ({@code kafka.Kafka} with the {@code server.properties} that {@link KafkaNodeConfig}
 * writes), on loopback, secured as {@link EmbeddedKafka} is. With three nodes every topic has three
 * replicas and needs two in sync, so one node can be killed without losing an acknowledged write.
 * For deployment tests: {@link #kill} ends a node with SIGKILL, {@link #start(int)} brings it back
 * on its data.
 */
public final class KafkaCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaCluster.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    private final Path dataDir;
    private final List<KafkaNodeConfig.Node> nodes;
    private final DevSecrets secrets;
    private final String clusterId = Uuid.randomUuid().toString();
    private final Map<Integer, Process> running = new ConcurrentHashMap<>();

    private KafkaCluster(Path dataDir, int size) {
        this.dataDir = dataDir;
        List<KafkaNodeConfig.Node> n = new ArrayList<>();
        for (int id = 1; id <= size; id++) {
            n.add(KafkaNodeConfig.Node.loopback(id, LoopbackPorts.free(), LoopbackPorts.free()));
        }
        this.nodes = List.copyOf(n);
        this.secrets = DevSecrets.loadOrCreate(dataDir.resolve(KafkaNodeConfig.SECRETS_FILE));
    }

    /**
     * Formats {@code size} nodes under {@code dataDir}, starts each as its own process, and returns
     * once every node is in the cluster's metadata.
     */
    public static KafkaCluster start(int size, Path dataDir) {
        if (size < 1) {
            throw new IllegalArgumentException("a cluster has at least one node, got " + size);
        }
        KafkaCluster c = new KafkaCluster(dataDir, size);
        try {
            for (KafkaNodeConfig.Node n : c.nodes) {
                KafkaNodeConfig config = c.config(n.id());
                Files.createDirectories(config.logDir());
                config.format(c.clusterId);
                c.writeProperties(n.id(), config.properties());
                c.launch(n.id());
            }
            c.awaitNodes(c.nodes);
        } catch (IOException e) {
            c.close();
            throw new UncheckedIOException("cannot create the Kafka cluster's directories under " + dataDir, e);
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        LOG.info("kafka.cluster.started bootstrap={} nodes={} dir={}", c.bootstrapServers(), size, dataDir);
        return c;
    }

    private KafkaNodeConfig config(int id) {
        return new KafkaNodeConfig(id, nodes, dataDir.resolve("node-" + id), secrets, Map.of());
    }

    private Path propertiesFile(int id) {
        return dataDir.resolve("node-" + id + ".properties");
    }

    /** The node's settings, owner-only: they hold the broker's key and the bootstrap passwords. */
    private void writeProperties(int id, Properties p) {
        try {
            KafkaClusterFiles.storeOwnerOnly(propertiesFile(id), p, "Kafka node " + id + " of a development cluster");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + propertiesFile(id), e);
        }
    }

    private void launch(int id) {
        Path log = dataDir.resolve("node-" + id + ".log");
        // quick to warm rather than fast once warm: C2's compiler threads in three fresh node JVMs take
        // most of two cores for minutes (the R5 deployment run took 94 s so, against 178 - 205 s)
        ProcessBuilder pb = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                "kafka.Kafka", propertiesFile(id).toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            running.put(id, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Kafka node " + id + "; its log: " + log, e);
        }
    }

    /**
     * Waits until every node is in the cluster's metadata as seen through {@code via}'s client
     * listeners, failing at once if a running node exits. Asked through a restarted node alone,
     * the answer comes from that node itself: the cluster's own view could still list it from
     * before it was killed.
     */
    private void awaitNodes(List<KafkaNodeConfig.Node> via) {
        Map<String, Object> config = new java.util.HashMap<>(adminClientConfig());
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaNodeConfig.bootstrapServers(via));
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(config)) {
            while (System.nanoTime() < deadline) {
                for (Map.Entry<Integer, Process> e : running.entrySet()) {
                    if (!e.getValue().isAlive()) {
                        throw new IllegalStateException("Kafka node " + e.getKey() + " exited with status "
                                + e.getValue().exitValue() + "; its log: " + dataDir.resolve("node-" + e.getKey() + ".log"));
                    }
                }
                try {
                    // describeCluster waits for an answer itself; the pause below is only for a
                    // listener not yet bound, which fails at once
                    if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= nodes.size()) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException notYet) {
                    // still starting, or the quorum is still electing its leader
                }
                Thread.sleep(200);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the Kafka cluster", e);
        }
        throw new IllegalStateException("the Kafka cluster did not have all " + nodes.size() + " nodes within "
                + READY_TIMEOUT.toSeconds() + " s through " + KafkaNodeConfig.bootstrapServers(via)
                + "; the nodes' logs are in " + dataDir);
    }

    /** Ends node {@code id} with SIGKILL, as a crashed machine would; its data stays. */
    public void kill(int id) {
        Process p = running.remove(id);
        if (p == null) {
            throw new IllegalStateException("Kafka node " + id + " is not running");
        }
        p.destroyForcibly();
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.info("kafka.node.killed node={}", id);
    }

    /** Starts node {@code id} again on its data and returns once it is back in the cluster. */
    public void start(int id) {
        if (running.containsKey(id)) {
            throw new IllegalStateException("Kafka node " + id + " is running");
        }
        launch(id);
        awaitNodes(nodes.stream().filter(n -> n.id() == id).toList());
        LOG.info("kafka.node.started node={}", id);
    }

    /** Node ids, 1 to the cluster's size. */
    public List<Integer> nodeIds() {
        return nodes.stream().map(KafkaNodeConfig.Node::id).toList();
    }

    /** Every node's client listener, {@code 127.0.0.1:port,...}. */
    public String bootstrapServers() {
        return KafkaNodeConfig.bootstrapServers(nodes);
    }

    /** The development CA's certificate (PEM) that clients trust. */
    public Optional<String> caCertificatePem() {
        return Optional.of(secrets.ca().caCertificatePem());
    }

    /** Connection settings of a client that logs in as {@code user}: SASL_SSL, SCRAM-SHA-512, the development CA. */
    public Map<String, Object> clientConfig(String user, String password) {
        return KafkaNodeConfig.clientConfig(bootstrapServers(), secrets, user, password);
    }

    /** The provisioning super user's password ({@link EmbeddedKafka#ADMIN_USER}), for the admin connection file. */
    public String adminPassword() {
        return secrets.adminPassword();
    }

    /** {@link #clientConfig} of the provisioning super user: for admin clients and test fixtures only. */
    public Map<String, Object> adminClientConfig() {
        return clientConfig(KafkaNodeConfig.ADMIN_USER, secrets.adminPassword());
    }

    /** An admin client on this cluster; the caller closes it. */
    public Admin admin() {
        return Admin.create(adminClientConfig());
    }

    /** Stops every node (SIGTERM, then SIGKILL after 30 s); the data stays in the directory given. */
    @Override
    public void close() {
        running.values().forEach(Process::destroy);
        for (Process p : running.values()) {
            try {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        running.clear();
    }

    @Override
    public String toString() {
        return "KafkaCluster[bootstrap=" + bootstrapServers() + ", running=" + running.keySet() + "]";
    }
}
