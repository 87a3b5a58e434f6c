package io.sealstream.worker;

import static io.sealstream.worker.WorkerSettings.*;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.tsm.ConfigfsTsmProvider;
import io.sealstream.attestation.tsm.TeeSelection;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.service.KafkaConnectionSettings;
import io.sealstream.service.ServiceExit;
import io.sealstream.service.ServiceLauncher;
import io.sealstream.service.ServiceProcess;
import io.sealstream.service.ServiceSettings;
import io.sealstream.service.SettingsException;
import io.sealstream.streams.StreamProcessorConfig;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.ChatModel;
import io.sealstream.worker.engine.EmbeddingEngine;
import io.sealstream.worker.engine.EmbeddingModel;
import io.sealstream.worker.engine.InferenceEngine;
import io.sealstream.worker.engine.SyntheticEngine;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker process: {@code java -cp <tee-worker's class path> io.sealstream.worker.WorkerMain
 * [--config worker.properties]}. It reads {@link WorkerSettings}, selects the TEE, loads the
 * engines, attests and serves until SIGTERM, and exits with a {@link ServiceExit} that says why
 * it stopped. {@code sealstream worker} runs the same code.
 */
public final class WorkerMain {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

    private WorkerMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.main(SCHEMA, args, WorkerMain::run);
    }

    /**
     * Starts a worker from {@code settings} and serves until {@code process} is asked to stop or
     * the worker stops itself; returns why it stopped. Problems are printed to {@code err} for the
     * person or orchestrator that started it, in words, with what to do.
     */
    public static ServiceExit run(ServiceSettings settings, ServiceProcess process, PrintStream out, PrintStream err) {
        TeeWorker worker;
        try {
            worker = start(settings);
        } catch (Refusal r) {
            err.println(SCHEMA.refusalLine(r.getMessage()));
            LOG.error("worker.start.failed exit={} reason=\"{}\"", r.exit, r.getMessage());
            return r.exit;
        }
        worker.whenEngineStalled(() -> process.stoppedItself(ServiceExit.ENGINE_STALLED));
        out.println("worker " + settings.string(WORKER_ID) + " started; ready at " + worker.healthUrl() + TeeWorker.READY_PATH);
        out.flush();
        java.util.Optional<ServiceExit> stoppedItself;
        try {
            stoppedItself = process.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stoppedItself = java.util.Optional.empty();
        }
        boolean graceful = worker.shutdown();
        ServiceExit exit = stoppedItself.orElse(graceful ? ServiceExit.STOPPED : ServiceExit.STOP_INCOMPLETE);
        LOG.info("worker.exit worker_id={} exit={} code={}", settings.string(WORKER_ID), exit, exit.code());
        return exit;
    }

    /** A start that cannot go on, with the exit that says why. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ServiceExit exit;

        Refusal(ServiceExit exit, String message, Throwable cause) {
            super(message, cause);
            this.exit = exit;
        }
    }

    private static TeeWorker start(ServiceSettings s) throws Refusal {
        WorkerConfig config;
        EvidenceProvider tee;
        try {
            config = config(s);
            tee = tee(s);
        } catch (SettingsException | IllegalArgumentException e) {
            throw new Refusal(ServiceExit.CONFIG_INVALID, e.getMessage(), e);
        }
        List<InferenceEngine> engines;
        try {
            engines = engines(s);
        } catch (SettingsException e) {
            throw new Refusal(ServiceExit.CONFIG_INVALID, e.getMessage(), e);
        }
        try {
            return TeeWorker.start(config, tee, engines);
        } catch (KeyBrokerException e) {
            engines.forEach(WorkerMain::closeQuietly);
            boolean refused = e.status() == 401 || e.status() == 403;
            throw new Refusal(refused ? ServiceExit.REFUSED : ServiceExit.UNAVAILABLE, (refused
                    ? "the key broker refused this worker: " : "the key broker could not be used: ") + e.getMessage(), e);
        } catch (AttestationException e) {
            engines.forEach(WorkerMain::closeQuietly);
            throw new Refusal(ServiceExit.NO_TEE, "the TEE gave no evidence: " + e.getMessage(), e);
        } catch (org.apache.kafka.common.config.ConfigException e) {
            engines.forEach(WorkerMain::closeQuietly);
            // Kafka's message repeats the value; name only the setting
            java.util.regex.Matcher named = java.util.regex.Pattern.compile("configuration (\\S+)").matcher(
                    String.valueOf(e.getMessage()));
            throw new Refusal(ServiceExit.CONFIG_INVALID, "Kafka refused a setting" + (named.find() ? " (" + named.group(1)
                    + ")" : "") + "; check the kafka.* and streams.* settings", e);
        } catch (IllegalStateException | UncheckedIOException | KafkaException e) {
            // a missing dead-letter topic, a health port in use, a cluster that does not answer
            engines.forEach(WorkerMain::closeQuietly);
            throw new Refusal(ServiceExit.UNAVAILABLE, e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            engines.forEach(WorkerMain::closeQuietly);
            throw new Refusal(ServiceExit.CONFIG_INVALID, e.getMessage(), e);
        }
    }

    /** The worker's configuration from its settings. */
    static WorkerConfig config(ServiceSettings s) {
        String pool = s.string(POOL);
        if (!EnvelopeProtocol.isLegalPoolName(pool)) {
            throw s.invalid(POOL, "1 to 32 lower-case letters or digits, as in the policy's pools");
        }
        KafkaConnectionSettings.KafkaConnection kafka = KAFKA.read(s).orElseThrow(); // required: the schema checked it
        KafkaNames names = KafkaNames.DEFAULTS.withRequestTopicFamily(s.string(REQUEST_TOPIC_FAMILY)).withPools(List.of(pool));
        StreamProcessorConfig.Builder streams = StreamProcessorConfig.builder()
                .bootstrapServers(kafka.bootstrapServers()).kafkaSecurity(kafka.security())
                .requestTopicFamily(names.familyOf(pool)).applicationId(names.applicationIdOf(pool))
                .stateDir(Path.of(s.string(STATE_DIR)))
                .maxBatchSize(s.integer(MAX_BATCH_SIZE, 1, 100_000))
                .batchLinger(s.millis(BATCH_LINGER, Duration.ZERO))
                .transactionTimeout(s.millis(TRANSACTION_TIMEOUT, Duration.ofSeconds(1)))
                .commitInterval(s.millis(COMMIT_INTERVAL, Duration.ofMillis(1)));
        s.passThrough("streams").forEach(streams::streamsConfig);
        return WorkerConfig.builder().workerId(s.string(WORKER_ID)).keyBrokerUrl(s.string(KEY_BROKER_URL))
                .schemaRegistryUrl(s.string(REGISTRY_URL)).streams(streams.build())
                .healthAddress(s.string(HEALTH_ADDRESS)).healthPort(s.integer(HEALTH_PORT, 0, 65_535)).build();
    }

    private static EvidenceProvider tee(ServiceSettings s) throws Refusal {
        String choice = s.choice(TEE, TeeSelection.CHOICES.toArray(String[]::new));
        byte[] measurement;
        try {
            measurement = s.optional(SIMULATED_MEASUREMENT).map(HexFormat.of()::parseHex)
                    .orElseGet(SimulatedSnpTee::devWorkerMeasurement);
        } catch (IllegalArgumentException e) {
            throw s.invalid(SIMULATED_MEASUREMENT, "hex (96 digits for a SHA-384 measurement)");
        }
        if (choice.equals("simulated") && s.path(SIMULATED_TEE_DIR).isEmpty()) {
            throw new SettingsException("worker: tee=simulated needs " + SIMULATED_TEE_DIR.name()
                    + ", the directory 'sealstream up' printed");
        }
        try {
            return TeeSelection.select(choice, ConfigfsTsmProvider.DEFAULT_ROOT, s.parsed(AGENT_URL, AttestationAgentProvider::url),
                    () -> SimulatedSnpTee.load(s.path(SIMULATED_TEE_DIR).orElseThrow()).provider(measurement));
        } catch (AttestationException | UncheckedIOException | IllegalStateException e) {
            throw new Refusal(ServiceExit.NO_TEE, "no usable TEE (" + TEE.name() + "=" + choice + "): " + e.getMessage(), e);
        }
    }

    private static List<InferenceEngine> engines(ServiceSettings s) {
        String engine = s.choice(ENGINE, "minilm", "synthetic");
        java.util.Optional<Path> chat = s.path(CHAT_MODEL);
        if (chat.isPresent() && !Files.isReadable(chat.get())) {
            throw new SettingsException("worker: the chat model " + chat.get() + " (" + CHAT_MODEL.name() + " from "
                    + s.source(CHAT_MODEL) + ") cannot be read; give the path of a GGUF file");
        }
        // the engines unpack their native libraries into DJL's cache, by default under the home
        // directory, which a container with a read-only root filesystem cannot write
        if (System.getenv("DJL_CACHE_DIR") == null && System.getProperty("DJL_CACHE_DIR") == null) {
            System.setProperty("DJL_CACHE_DIR", Path.of(s.string(STATE_DIR)).resolve("djl-cache").toString());
        }
        List<InferenceEngine> engines = new ArrayList<>();
        engines.add(engine.equals("synthetic") ? new SyntheticEngine() : EmbeddingEngine.load(EmbeddingModel.ALL_MINILM_L6_V2_Q));
        // the GGUF file is copied, measured, into the state directory (in the TEE's memory) and loaded from there
        chat.ifPresent(p -> engines.add(ChatEngine.load(ChatModel.of(p).withScratchDir(Path.of(s.string(STATE_DIR))))));
        return engines;
    }

    private static void closeQuietly(InferenceEngine e) {
        try {
            e.close();
        } catch (Exception ex) {
            LOG.warn("worker.engine.close_failed error={}", ex.getClass().getSimpleName());
        }
    }
}
