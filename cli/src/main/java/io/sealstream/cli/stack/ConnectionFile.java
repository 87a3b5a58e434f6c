package io.sealstream.cli.stack;

import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.client.BrokerTrust;
import io.sealstream.client.SealstreamClient;
import io.sealstream.envelope.EnvelopeProtocol;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * What a client needs to reach a Sealstream deployment and what it pins, as a properties file:
 * {@code sealstream up} writes one, {@code sealstream submit --connection FILE} reads it. It holds
 * addresses and public pins (broker measurement, policy id), no secrets.
 *
 * @param bootstrapServers Kafka bootstrap servers
 * @param schemaRegistryUrl the Confluent-compatible registry
 * @param keyBrokerUrl the key broker
 * @param requestTopicFamily the request topic family; a client sends to {@code <family>.<client_id>}
 * @param brokerMeasurement the key broker's launch measurement the client pins, hex
 * @param policyId the policy id the client pins, hex
 * @param simulatedTeeDir for a development stack only: the simulated TEE whose root is trusted;
 *     null for AMD's roots
 */
public record ConnectionFile(String bootstrapServers, String schemaRegistryUrl, String keyBrokerUrl, String requestTopicFamily,
                             String brokerMeasurement, String policyId, Path simulatedTeeDir) {
    public static final String BOOTSTRAP = "bootstrap.servers";
    public static final String REGISTRY = "schema.registry.url";
    public static final String KEY_BROKER = "key.broker.url";
    public static final String REQUEST_TOPIC_FAMILY = "request.topic.family";
    /** Files written before per-client request topics name the family here. */
    private static final String OLD_REQUEST_TOPIC = "request.topic";
    public static final String MEASUREMENT = "pin.broker.measurement";
    public static final String POLICY = "pin.policy.id";
    public static final String SIMULATED_TEE = "dev.simulated.tee.dir";

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
                        + " ('sealstream up' prints and writes a complete one)");
            }
        }
        String sim = p.getProperty(SIMULATED_TEE, "");
        return new ConnectionFile(p.getProperty(BOOTSTRAP), p.getProperty(REGISTRY), p.getProperty(KEY_BROKER),
                p.getProperty(REQUEST_TOPIC_FAMILY, p.getProperty(OLD_REQUEST_TOPIC, EnvelopeProtocol.REQUEST_TOPIC_FAMILY)),
                p.getProperty(MEASUREMENT),
                p.getProperty(POLICY), sim.isBlank() ? null : Path.of(sim));
    }

    public void write(Path file) {
        Properties p = new Properties();
        p.setProperty(BOOTSTRAP, bootstrapServers);
        p.setProperty(REGISTRY, schemaRegistryUrl);
        p.setProperty(KEY_BROKER, keyBrokerUrl);
        p.setProperty(REQUEST_TOPIC_FAMILY, requestTopicFamily);
        p.setProperty(MEASUREMENT, brokerMeasurement);
        p.setProperty(POLICY, policyId);
        if (simulatedTeeDir != null) {
            p.setProperty(SIMULATED_TEE, simulatedTeeDir.toString());
        }
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            p.store(w, "Sealstream client connection: addresses and pins, no secrets");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the connection file " + file, e);
        }
    }

    /** A client builder for {@code clientId} with these addresses and pins. */
    public SealstreamClient.Builder clientBuilder(String clientId) {
        EvidenceVerifier verifier = simulatedTeeDir == null ? SnpVerifier.withAmdRoots()
                : SnpVerifier.trustingDevelopmentRoot(List.of(), SimulatedSnpTee.load(simulatedTeeDir).developmentRoot());
        return SealstreamClient.builder().bootstrapServers(bootstrapServers).schemaRegistryUrl(schemaRegistryUrl)
                .keyBrokerUrl(keyBrokerUrl).clientId(clientId).requestTopicFamily(requestTopicFamily)
                .trust(BrokerTrust.pinned(verifier, brokerMeasurement, policyId));
    }
}
