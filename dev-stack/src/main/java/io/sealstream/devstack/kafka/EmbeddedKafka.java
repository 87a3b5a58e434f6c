package io.sealstream.devstack.kafka;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import io.sealstream.devstack.LoopbackPorts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Apache Kafka broker in KRaft mode (one node acting as broker and controller), in this
 * JVM, on loopback.
 *
 * <p>By default it is secured as a deployment is: the client listener speaks {@code SASL_SSL}
 * with SCRAM-SHA-512, the controller listener mutual TLS, both with certificates of a
 * {@link DevCertificateAuthority} made at first start; {@code StandardAuthorizer} denies whatever
 * no ACL allows. Two principals exist from the start, both super users: {@link #ADMIN_USER} for
 * provisioning ({@link #admin()}) and the broker's own inter-broker user. {@link Builder#plaintext()}
 * gives the old unauthenticated listener, for benchmarks that measure what security costs.
 *
 * <p>Ports are picked free at the first start and kept, and so is the log directory, so
 * {@link #restart()} brings the same broker back with every committed record: clients reconnect
 * to the same bootstrap address. {@link #close()} shuts down cleanly and, for a directory it
 * created, deletes it.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final String LOOPBACK = "127.0.0.1";
    private static final int NODE_ID = 1;
    private static final int PORT_ATTEMPTS = 5;
    /** The provisioning principal of a secured broker: a super user, used for nothing else. */
    public static final String ADMIN_USER = KafkaNodeConfig.ADMIN_USER;
    /**
     * How long a SASL session lasts before the client must authenticate again
     * ({@code connections.max.reauth.ms}): the longest a deleted or replaced password keeps working
     * on a connection opened with it.
     */
    public static final Duration REAUTHENTICATE_AFTER = Duration.ofMinutes(5);

    private final Path logDir;
    private final boolean ownsLogDir;
    private final Map<String, String> overrides;
    private final String clusterId = Uuid.randomUuid().toString();
    private final DevSecrets secrets;
    private int brokerPort;
    private int controllerPort;
    private KafkaRaftServer server;
    private boolean formatted;

    private EmbeddedKafka(Builder b) {
        try {
            this.ownsLogDir = b.logDir == null;
            this.logDir = ownsLogDir ? Files.createTempDirectory("sealstream-kafka-") : b.logDir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary Kafka log directory; check that "
                    + "java.io.tmpdir is writable", e);
        }
        this.overrides = Map.copyOf(b.overrides);
        // a directory kept from an earlier run is already formatted; formatting again would fail
        this.formatted = Files.exists(logDir.resolve("meta.properties"));
        this.secrets = b.plaintext ? null : DevSecrets.loadOrCreate(logDir.resolve(KafkaNodeConfig.SECRETS_FILE));
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Formats storage on first use and starts the broker; returns when it serves requests. */
    public synchronized EmbeddedKafka start() {
        if (server != null) {
            throw new IllegalStateException("the embedded Kafka broker is already running on " + bootstrapServers());
        }
        if (!formatted) {
            startFirstTime();
        } else {
            if (brokerPort == 0) {
                brokerPort = LoopbackPorts.free();
                controllerPort = LoopbackPorts.free();
            }
            server = launch();
        }
        awaitReady(Duration.ofSeconds(60));
        LOG.info("kafka.started bootstrap={} logDir={}", bootstrapServers(), logDir);
        return this;
    }

    private void startFirstTime() {
        RuntimeException last = null;
        for (int attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
            brokerPort = LoopbackPorts.free();
            controllerPort = LoopbackPorts.free();
            try {
                format();
                server = launch();
                return;
            } catch (RuntimeException e) {
                // another process may have taken a port between picking and binding it
                last = e;
                LOG.warn("kafka.start.retry attempt={} reason={}", attempt + 1, e.getClass().getSimpleName());
                stopQuietly();
                deleteContents(logDir);
                formatted = false;
            }
        }
        throw new IllegalStateException("the embedded Kafka broker did not start after " + PORT_ATTEMPTS
                + " attempts on loopback; see the log for the broker's own error", last);
    }

    private void format() {
        nodeConfig().format(clusterId);
        formatted = true;
    }

    private KafkaNodeConfig nodeConfig() {
        return new KafkaNodeConfig(NODE_ID, List.of(KafkaNodeConfig.Node.loopback(NODE_ID, brokerPort, controllerPort)), logDir,
                secrets, overrides);
    }

    private KafkaRaftServer launch() {
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(config(), false), Time.SYSTEM);
        try {
            s.startup();
        } catch (RuntimeException e) {
            s.shutdown();
            s.awaitShutdown();
            throw e;
        }
        return s;
    }

    private Properties config() {
        return nodeConfig().properties();
    }

    private void awaitReady(Duration timeout) {
        try (Admin admin = admin()) {
            admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the embedded Kafka broker", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("the embedded Kafka broker on " + bootstrapServers()
                    + " did not answer within " + timeout.toSeconds() + " s", e);
        }
    }

    /** Shuts the broker down cleanly, keeping its data for {@link #start()} or {@link #restart()}. */
    public synchronized void stop() {
        if (server != null) {
            stopQuietly();
            LOG.info("kafka.stopped bootstrap={}", bootstrapServers());
        }
    }

    private void stopQuietly() {
        if (server != null) {
            try {
                server.shutdown();
                server.awaitShutdown();
            } finally {
                server = null;
            }
        }
    }

    /** Stops and starts the same broker: same ports, same log directory, same cluster id. */
    public synchronized EmbeddedKafka restart() {
        stop();
        return start();
    }

    /** True while the broker runs. */
    public synchronized boolean isRunning() {
        return server != null;
    }

    /** {@code 127.0.0.1:port} of the client listener. */
    public String bootstrapServers() {
        return LOOPBACK + ":" + brokerPort;
    }

    /** True unless built {@link Builder#plaintext()}: clients need SASL_SSL credentials and the CA. */
    public boolean isSecured() {
        return secrets != null;
    }

    /** The development CA's certificate (PEM) that clients trust; empty for a plaintext broker. */
    public Optional<String> caCertificatePem() {
        return secrets == null ? Optional.empty() : Optional.of(secrets.ca().caCertificatePem());
    }

    /**
     * Connection settings of a Kafka client that logs in as {@code user}: bootstrap servers and,
     * on a secured broker, SASL_SSL with SCRAM-SHA-512 trusting the development CA.
     */
    public Map<String, Object> clientConfig(String user, String password) {
        return KafkaNodeConfig.clientConfig(bootstrapServers(), secrets, user, password);
    }

    /** The provisioning super user's password; empty for a plaintext broker. */
    public String adminPassword() {
        return secrets == null ? "" : secrets.adminPassword();
    }

    /** {@link #clientConfig} of the provisioning super user: for admin clients and test fixtures only. */
    public Map<String, Object> adminClientConfig() {
        return clientConfig(ADMIN_USER, secrets == null ? "" : secrets.adminPassword());
    }

    /** The broker's data directory. */
    public Path logDir() {
        return logDir;
    }

    /** An admin client on this broker; the caller closes it. */
    public Admin admin() {
        return Admin.create(adminClientConfig());
    }

    /** Creates each topic with {@code partitions} partitions unless it exists. */
    public void createTopics(int partitions, Collection<String> topics) {
        createTopics(partitions, topics, Map.of());
    }

    /** Creates each topic with {@code partitions} partitions and the topic {@code configs} unless it exists. */
    public void createTopics(int partitions, Collection<String> topics, Map<String, String> configs) {
        Objects.requireNonNull(topics, "topics");
        try (Admin admin = admin()) {
            List<NewTopic> wanted = topics.stream().map(t -> new NewTopic(t, partitions, (short) 1).configs(configs))
                    .toList();
            for (var f : admin.createTopics(wanted).values().values()) {
                try {
                    f.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("creating topics " + topics + " failed", e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics " + topics, e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("creating topics " + topics + " took more than 30 s", e);
        }
    }

    /** Stops the broker and deletes the log directory if this instance created it. */
    @Override
    public synchronized void close() {
        stop();
        if (ownsLogDir) {
            deleteContents(logDir);
            try {
                Files.deleteIfExists(logDir);
            } catch (IOException e) {
                LOG.warn("kafka.cleanup.failed dir={} reason={}", logDir, e.getClass().getSimpleName());
            }
        }
    }


    private static void deleteContents(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(dir)).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.warn("kafka.cleanup.failed dir={} reason={}", dir, e.getClass().getSimpleName());
        }
    }

    @Override
    public String toString() {
        return "EmbeddedKafka[bootstrap=" + bootstrapServers() + ", logDir=" + logDir + ", running=" + isRunning() + "]";
    }

    /** Settings of an embedded broker. */
    public static final class Builder {
        private Path logDir;
        private final Map<String, String> overrides = new java.util.HashMap<>();
        private boolean plaintext;

        private Builder() {
        }

        /**
         * An unauthenticated PLAINTEXT listener without an authorizer, as before tenancy: only for
         * measuring what SASL_SSL costs side by side. Nothing a tenant runs should use it.
         */
        public Builder plaintext() {
            this.plaintext = true;
            return this;
        }

        /** Keep data here instead of a temporary directory that {@link #close()} deletes. */
        public Builder logDir(Path logDir) {
            this.logDir = logDir;
            return this;
        }

        /** Any broker setting, applied after the embedded defaults. */
        public Builder brokerConfig(String key, String value) {
            overrides.put(key, value);
            return this;
        }

        public EmbeddedKafka build() {
            return new EmbeddedKafka(this);
        }
    }
}
