package io.sealstream.cli.stack;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.tsm.ConfigfsTsmProvider;
import io.sealstream.attestation.tsm.TeeSelection;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.KafkaSecurity;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.WorkerConfig;
import io.sealstream.worker.engine.InferenceEngine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream worker}: one TEE worker process. With {@code --tee=simulated} it takes the
 * development TEE that {@code sealstream up} saved in its data directory, so a worker can run in
 * its own JVM beside the embedded stack (and be killed and replaced).
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Run one confidential worker until stopped.")
public final class WorkerCommand implements Callable<Integer> {
    @Option(names = "--bootstrap-servers", required = true, description = "Kafka bootstrap servers.")
    String bootstrapServers;

    @Option(names = "--kafka-credentials", description = "Owner-only credentials file of the workers' Kafka principal "
            + "(SASL_SSL, SCRAM-SHA-512); 'sealstream up' writes DATA_DIR/worker.credentials.")
    Path kafkaCredentials;

    @Option(names = "--kafka-ca", description = "PEM file of the CA that signs the Kafka brokers' certificates "
            + "(default: the JVM's trust store); 'sealstream up' writes DATA_DIR/kafka-ca.pem.")
    Path kafkaCa;

    @Option(names = "--kafka-plaintext", description = "Connect without TLS or authentication: only for a PLAINTEXT "
            + "benchmark broker.")
    boolean kafkaPlaintext;

    @Option(names = "--schema-registry", required = true, description = "Confluent-compatible registry URL.")
    String registryUrl;

    @Option(names = "--key-broker", required = true, description = "Key broker URL.")
    String keyBrokerUrl;

    @Option(names = "--worker-id", required = true, description = "Worker id, for logs.")
    String workerId;

    @Option(names = "--state-dir", required = true, description = "Kafka Streams state directory (ciphertext only).")
    Path stateDir;

    @Option(names = "--tee", defaultValue = "auto",
            description = "auto (configfs-tsm; never falls back to simulated), snp, tdx or simulated (default ${DEFAULT-VALUE}).")
    String tee;

    @Option(names = "--simulated-tee-dir", description = "Where the dev stack saved its simulated TEE (required with --tee=simulated).")
    Path simulatedTeeDir;

    @Option(names = "--measurement", description = "Launch measurement the simulated TEE reports, hex (default: the dev worker image).")
    String measurement;

    @Option(names = "--request-topic-family", defaultValue = StreamProcessorConfig.DEFAULT_REQUEST_TOPIC_FAMILY,
            description = "Clients send to <family>.<client_id>; the worker reads them all (default ${DEFAULT-VALUE}).")
    String requestTopicFamily;

    @Option(names = "--pool", defaultValue = io.sealstream.envelope.EnvelopeProtocol.DEFAULT_POOL,
            description = "The worker pool this worker belongs to; the policy's pools say which models each serves. A "
                    + "pool other than 'default' reads <family>-<pool>.<client_id> (default ${DEFAULT-VALUE}).")
    String pool;

    @Option(names = "--max-batch-size", defaultValue = "16")
    int maxBatchSize;

    @Option(names = "--batch-linger-ms", defaultValue = "50")
    long lingerMillis;

    @Option(names = "--transaction-timeout-ms", defaultValue = "300000",
            description = "Upper bound on one batch; also how long a dead worker's open transaction blocks readers.")
    long transactionTimeoutMillis;

    @Option(names = "--chat-model", description = "Also serve chat with this GGUF model (llama.cpp); its SHA-256 must be "
            + "among the policy's models.")
    Path chatModel;

    @Option(names = "--engine", defaultValue = "minilm",
            description = "minilm (the int8 MiniLM model) or synthetic (the benchmark stand-in; a real policy never lists "
                    + "its digest, so only the dev stack admits it) (default ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--health-port", defaultValue = "0", description = "Port of /healthz and /readyz (0: a free one).")
    int healthPort;

    @Option(names = "--health-address", defaultValue = WorkerConfig.DEFAULT_HEALTH_ADDRESS,
            description = "Address /healthz and /readyz listen on (default ${DEFAULT-VALUE}; a pod's address or 0.0.0.0 for "
                    + "Kubernetes probes).")
    String healthAddress;

    @Option(names = "--streams-config", split = ",", description = "Extra Kafka Streams settings, key=value.")
    Map<String, String> streamsConfig = new LinkedHashMap<>();

    private List<InferenceEngine> engines() {
        List<InferenceEngine> engines = new java.util.ArrayList<>(List.of("synthetic".equals(engine)
                ? new io.sealstream.cli.bench.SyntheticEngine() : Engines.defaultEmbeddings()));
        if (chatModel != null) {
            engines.add(Engines.chat(chatModel));
        }
        return engines;
    }

    @Override
    public Integer call() throws Exception {
        if ("simulated".equals(tee) && simulatedTeeDir == null) {
            System.err.println("sealstream worker: --tee=simulated needs --simulated-tee-dir (see 'sealstream up' output)");
            return 2;
        }
        if ((kafkaCredentials == null) == !kafkaPlaintext) {
            System.err.println("sealstream worker: give --kafka-credentials FILE (and --kafka-ca FILE for a private CA), "
                    + "or --kafka-plaintext for a PLAINTEXT benchmark broker");
            return 2;
        }
        KafkaSecurity security = kafkaPlaintext ? KafkaSecurity.plaintext()
                : KafkaSecurity.scram(ClientCredentials.read(kafkaCredentials),
                        kafkaCa == null ? null : java.nio.file.Files.readString(kafkaCa));
        if (!io.sealstream.envelope.EnvelopeProtocol.isLegalPoolName(pool)) {
            System.err.println("sealstream worker: --pool is 1 to 32 lower-case letters or digits, as in the policy's pools");
            return 2;
        }
        KafkaNames names = KafkaNames.DEFAULTS.withRequestTopicFamily(requestTopicFamily).withPools(List.of(pool));
        byte[] m = measurement == null ? LocalStack.WORKER_MEASUREMENT : HexFormat.of().parseHex(measurement);
        EvidenceProvider provider;
        try {
            provider = TeeSelection.select(tee, ConfigfsTsmProvider.DEFAULT_ROOT,
                    () -> SimulatedSnpTee.load(simulatedTeeDir).provider(m));
        } catch (AttestationException e) {
            System.err.println("sealstream worker: no usable TEE: " + e.getMessage());
            return 2;
        }
        StreamProcessorConfig.Builder streams = StreamProcessorConfig.builder()
                .bootstrapServers(bootstrapServers).kafkaSecurity(security)
                .requestTopicFamily(names.familyOf(pool)).applicationId(names.applicationIdOf(pool)).stateDir(stateDir)
                .maxBatchSize(maxBatchSize).batchLinger(Duration.ofMillis(lingerMillis))
                .transactionTimeout(Duration.ofMillis(transactionTimeoutMillis));
        streamsConfig.forEach(streams::streamsConfig);
        TeeWorker worker;
        try {
            worker = TeeWorker.start(WorkerConfig.builder().workerId(workerId).keyBrokerUrl(keyBrokerUrl)
                    .schemaRegistryUrl(registryUrl).streams(streams.build()).healthPort(healthPort).healthAddress(healthAddress).build(), provider,
                    engines());
        } catch (KeyBrokerException e) {
            System.err.println("sealstream worker: the key broker refused this worker: " + e.getMessage());
            return 3;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            stopped.countDown();
        }, "sealstream-worker-shutdown"));
        System.out.println("worker " + workerId + " started; ready at " + worker.healthUrl() + "/readyz");
        stopped.await();
        return 0;
    }
}
