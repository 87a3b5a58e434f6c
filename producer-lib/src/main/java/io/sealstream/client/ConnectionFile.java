package io.sealstream.client;

import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.TeeVerifiers;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.KafkaSecurity;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * What a client needs to reach a Sealstream deployment and what it pins, as a properties file:
 * {@code sealstream up} and {@code sealstream clients add} write one per client, {@code submit
 * --connection FILE} reads it. It holds addresses, public pins (broker measurement, policy id), the
 * CA that signs the Kafka brokers' certificates, and the path of the owner-only credentials file
 * (a relative path is resolved against the connection file's directory); no secret itself.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param schemaRegistryUrl the Confluent-compatible registry
 * @param keyBrokerUrl the key broker
 * @param requestTopicFamily the request topic family; a client sends to {@code <family>.<client_id>}
 * @param brokerMeasurement the key broker's launch measurement the client pins, hex
 * @param policyId the policy id the client pins, hex
 * @param simulatedTeeDir for a development stack only: the simulated TEE whose root is trusted;
 *     null for AMD's roots
 * @param kafkaProtocol SASL_SSL, or PLAINTEXT only where a file says so explicitly
 * @param kafkaCaPem the CA certificates (PEM) of the Kafka brokers; null for the JVM's trust store
 * @param credentialsFile the principal's owner-only credentials; null for PLAINTEXT
 * @param workerPools the deployment's worker pools, each with its own request topic per client:
 *     what {@code sealstream clients} provisions for (clients route by the verified policy instead)
 * @param logKey the key broker's transparency log key (X.509, base64) the client pins; a client
 *     connection needs one, an admin connection may lack it ({@code clients add} then asks the key
 *     broker, and the client checks it against the broker's evidence)
 * @param minimumPolicyAge how long a policy must have been in the log before this client uses it
 * @param logHeadFile where the client keeps the last log head it accepted: beside the file it was
 *     read from ({@code <file>.log-head}); null for a connection not read from a file
 */
public record ConnectionFile(String bootstrapServers, String schemaRegistryUrl, String keyBrokerUrl, String requestTopicFamily,
                             String brokerMeasurement, String policyId, Path simulatedTeeDir,
                             KafkaSecurity.Protocol kafkaProtocol, String kafkaCaPem, Path credentialsFile,
                             List<String> workerPools, String logKey, Duration minimumPolicyAge, Path logHeadFile) {
    public static final String BOOTSTRAP = "bootstrap.servers";
    public static final String REGISTRY = "schema.registry.url";
    public static final String KEY_BROKER = "key.broker.url";
    public static final String REQUEST_TOPIC_FAMILY = "request.topic.family";
    /** Files written before per-client request topics name the family here. */
    private static final String OLD_REQUEST_TOPIC = "request.topic";
    public static final String MEASUREMENT = "pin.broker.measurement";
    public static final String POLICY = "pin.policy.id";
    public static final String SIMULATED_TEE = "dev.simulated.tee.dir";
    public static final String KAFKA_PROTOCOL = "kafka.security.protocol";
    public static final String KAFKA_CA = "kafka.ssl.ca.pem";
    public static final String CREDENTIALS = "kafka.credentials.file";
    public static final String POOLS = "worker.pools";
    public static final String LOG_KEY = "pin.log.key";
    public static final String MIN_POLICY_AGE = "log.min.policy.age.seconds";
    /** Appended to the connection file's name: where the client keeps the log's last head by default. */
    public static final String LOG_HEAD_SUFFIX = ".log-head";
    /** Where to keep the log's last head instead (relative to the file's directory), e.g. off a read-only mount. */
    public static final String LOG_HEAD = "log.head.file";

    public ConnectionFile {
        if (kafkaProtocol == KafkaSecurity.Protocol.SASL_SSL && credentialsFile == null) {
            throw new IllegalArgumentException("a SASL_SSL connection needs a credentials file");
        }
        workerPools = workerPools == null || workerPools.isEmpty() ? List.of(EnvelopeProtocol.DEFAULT_POOL)
                : List.copyOf(workerPools);
        minimumPolicyAge = minimumPolicyAge == null ? Duration.ZERO : minimumPolicyAge;
        if (minimumPolicyAge.isNegative()) {
            throw new IllegalArgumentException(MIN_POLICY_AGE + " is zero or more seconds");
        }
    }

    public static ConnectionFile read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the connection file " + file, e);
        }
        for (String key : List.of(BOOTSTRAP, REGISTRY, KEY_BROKER, MEASUREMENT, POLICY)) {
            if (p.getProperty(key, "").isBlank()) {
                throw new IllegalArgumentException("connection file " + file + " lacks " + key
                        + " ('sealstream clients add' writes a complete one)");
            }
        }
        String protocol = p.getProperty(KAFKA_PROTOCOL, "");
        KafkaSecurity.Protocol kafkaProtocol;
        try {
            kafkaProtocol = KafkaSecurity.Protocol.valueOf(protocol);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("connection file " + file + " has " + KAFKA_PROTOCOL + "='" + protocol
                    + "'; it must be SASL_SSL (files written before Kafka authentication lack it: ask the operator "
                    + "for a new one from 'sealstream clients add')");
        }
        String creds = p.getProperty(CREDENTIALS, "");
        Path credentials = null;
        if (kafkaProtocol == KafkaSecurity.Protocol.SASL_SSL) {
            if (creds.isBlank()) {
                throw new IllegalArgumentException("connection file " + file + " lacks " + CREDENTIALS
                        + ": the path of the client's credentials file");
            }
            Path dir = file.toAbsolutePath().getParent();
            credentials = dir.resolve(creds);
        }
        String ca = p.getProperty(KAFKA_CA, "");
        String sim = p.getProperty(SIMULATED_TEE, "");
        String logKey = p.getProperty(LOG_KEY, "").strip();
        String age = p.getProperty(MIN_POLICY_AGE, "0").strip();
        if (!age.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("connection file " + file + " has " + MIN_POLICY_AGE + "='" + age
                    + "'; it is a whole number of seconds");
        }
        return new ConnectionFile(p.getProperty(BOOTSTRAP), p.getProperty(REGISTRY), p.getProperty(KEY_BROKER),
                p.getProperty(REQUEST_TOPIC_FAMILY, p.getProperty(OLD_REQUEST_TOPIC, EnvelopeProtocol.REQUEST_TOPIC_FAMILY)),
                p.getProperty(MEASUREMENT), p.getProperty(POLICY), sim.isBlank() ? null : Path.of(sim),
                kafkaProtocol, ca.isBlank() ? null : ca, credentials,
                java.util.Arrays.stream(p.getProperty(POOLS, "").split(",")).map(String::strip).filter(x -> !x.isEmpty())
                        .toList(), logKey.isEmpty() ? null : logKey, Duration.ofSeconds(Long.parseLong(age)),
                file.toAbsolutePath().getParent().resolve(p.getProperty(LOG_HEAD, file.getFileName() + LOG_HEAD_SUFFIX)));
    }

    /**
     * This file for another principal: same addresses, pins and CA, that principal's credentials
     * file; it keeps its log head wherever it is written.
     */
    public ConnectionFile withCredentials(Path credentialsFile) {
        return new ConnectionFile(bootstrapServers, schemaRegistryUrl, keyBrokerUrl, requestTopicFamily, brokerMeasurement,
                policyId, simulatedTeeDir, KafkaSecurity.Protocol.SASL_SSL, kafkaCaPem, credentialsFile, workerPools,
                logKey, minimumPolicyAge, null);
    }

    /** This file pinning the transparency log key {@code x509} (as the key broker serves it). */
    public ConnectionFile withLogKey(byte[] x509) {
        return new ConnectionFile(bootstrapServers, schemaRegistryUrl, keyBrokerUrl, requestTopicFamily, brokerMeasurement,
                policyId, simulatedTeeDir, kafkaProtocol, kafkaCaPem, credentialsFile, workerPools,
                java.util.Base64.getEncoder().encodeToString(x509), minimumPolicyAge, logHeadFile);
    }

    /**
     * Writes the file; a credentials file in the same directory is named by its file name alone,
     * so the two can be handed over together.
     */
    public void write(Path file) {
        Properties p = new Properties();
        p.setProperty(BOOTSTRAP, bootstrapServers);
        p.setProperty(REGISTRY, schemaRegistryUrl);
        p.setProperty(KEY_BROKER, keyBrokerUrl);
        p.setProperty(REQUEST_TOPIC_FAMILY, requestTopicFamily);
        p.setProperty(MEASUREMENT, brokerMeasurement);
        p.setProperty(POLICY, policyId);
        p.setProperty(KAFKA_PROTOCOL, kafkaProtocol.name());
        p.setProperty(POOLS, String.join(",", workerPools));
        if (kafkaCaPem != null) {
            p.setProperty(KAFKA_CA, kafkaCaPem);
        }
        if (credentialsFile != null) {
            Path dir = file.toAbsolutePath().getParent();
            Path creds = credentialsFile.toAbsolutePath();
            p.setProperty(CREDENTIALS, creds.getParent().equals(dir) ? creds.getFileName().toString() : creds.toString());
        }
        if (simulatedTeeDir != null) {
            p.setProperty(SIMULATED_TEE, simulatedTeeDir.toString());
        }
        if (logKey != null) {
            p.setProperty(LOG_KEY, logKey);
        }
        if (!minimumPolicyAge.isZero()) {
            p.setProperty(MIN_POLICY_AGE, Long.toString(minimumPolicyAge.toSeconds()));
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "Sealstream client connection: addresses, pins and the Kafka CA; the password is in "
                    + CREDENTIALS);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the connection file " + file, e);
        }
    }

    /** How to log in to Kafka: reads the credentials file (which must be owner-only). */
    public KafkaSecurity kafkaSecurity() {
        return kafkaProtocol == KafkaSecurity.Protocol.PLAINTEXT ? KafkaSecurity.plaintext()
                : KafkaSecurity.scram(ClientCredentials.read(credentialsFile), kafkaCaPem);
    }

    /**
     * A client builder with these addresses, pins and credentials; the client id is the
     * credentials' user name (a client sends and reads only as itself).
     *
     * @throws IllegalArgumentException for a PLAINTEXT file, which names no client, or one that
     *     pins no transparency log key
     */
    public SealstreamClient.Builder clientBuilder() {
        KafkaSecurity security = kafkaSecurity();
        if (security.username().isEmpty()) {
            throw new IllegalArgumentException("a PLAINTEXT connection file names no client; ask the operator for the "
                    + "connection file 'sealstream clients add' wrote");
        }
        return SealstreamClient.builder().bootstrapServers(bootstrapServers).schemaRegistryUrl(schemaRegistryUrl)
                .keyBrokerUrl(keyBrokerUrl).clientId(security.username()).requestTopicFamily(requestTopicFamily)
                .kafkaSecurity(security)
                .trust(brokerTrust());
    }

    /**
     * What this file pins of the key broker: vendor roots (or, for a dev stack's file, its
     * simulated TEE's root and dev custody), the measurement, the policy id, and the transparency
     * log key with the head kept beside the file.
     *
     * @throws IllegalArgumentException if the file pins no log key
     */
    public BrokerTrust brokerTrust() {
        // a production broker may run on bare SNP or TDX or in an Azure confidential VM of either
        EvidenceVerifier verifier = simulatedTeeDir == null ? TeeVerifiers.withVendorRoots()
                : SnpVerifier.trustingDevelopmentRoot(List.of(), SimulatedSnpTee.load(simulatedTeeDir).developmentRoot());
        BrokerTrust trust = BrokerTrust.pinned(verifier, brokerMeasurement, policyId).withLog(logTrust());
        // a file that trusts the simulated TEE is a dev stack's, whose broker holds its root in dev custody;
        // any other connection file is strict
        return simulatedTeeDir == null ? trust : trust.allowingDevCustody();
    }

    /**
     * The transparency log this file pins.
     *
     * @throws IllegalArgumentException if it pins none, or was not read from a file
     */
    public LogTrust logTrust() {
        if (logKey == null || logHeadFile == null) {
            throw new IllegalArgumentException("the connection file pins no transparency log key (" + LOG_KEY + "), so "
                    + "this client could not tell a policy everyone sees from one shown only to it; ask the operator for "
                    + "a new connection file from 'sealstream clients add'");
        }
        return LogTrust.pinned(decodeLogKey(), logHeadFile, minimumPolicyAge);
    }

    /**
     * Checks the key broker as a client of this file does before it sends anything (evidence,
     * pins, custody, policy, transparency log) and says what it proved.
     *
     * @throws SealstreamException naming what did not hold
     */
    public VerifiedTopic verifyKeyBroker() {
        return new BrokerVerifier(new io.sealstream.keybroker.client.KeyBrokerClient(keyBrokerUrl,
                java.time.Duration.ofSeconds(10)), brokerTrust(), java.time.Clock.systemUTC()).verify(requestTopicFamily);
    }

    private byte[] decodeLogKey() {
        try {
            return java.util.Base64.getDecoder().decode(logKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the connection file's " + LOG_KEY + " is not base64; ask the operator for "
                    + "a new connection file from 'sealstream clients add'");
        }
    }
}
