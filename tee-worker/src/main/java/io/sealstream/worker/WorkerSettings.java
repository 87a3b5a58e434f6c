package io.sealstream.worker;

import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.service.KafkaConnectionSettings;
import io.sealstream.service.ServiceLogging;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.service.Setting;
import io.sealstream.service.SettingsSchema;
import io.sealstream.streams.StreamProcessorConfig;
import java.util.List;

/**
 * Every setting of the worker process ({@link WorkerMain}, {@code sealstream worker}): the one
 * place its config keys, environment variables and defaults are declared. docs/configuration.md
 * and the deployment manifests are checked against it.
 */
public final class WorkerSettings {
    private WorkerSettings() {
    }

    public static final Setting WORKER_ID = Setting.required("worker.id",
            "This worker's id, for logs and health output (a pod name).");
    /** How the worker reaches Kafka, as the workers' principal. */
    public static final KafkaConnectionSettings KAFKA = KafkaConnectionSettings.required("worker", "the workers'",
            "'sealstream up' writes DATA_DIR/worker.credentials, 'sealstream workers provision' worker.credentials");
    public static final Setting REGISTRY_URL = Setting.required("schema.registry.url",
            "Confluent-compatible schema registry URL.");
    public static final Setting KEY_BROKER_URL = Setting.required("key.broker.url", "Key broker URL.");
    public static final Setting STATE_DIR = Setting.required("state.dir",
            "Kafka Streams state directory; holds ciphertext only.");
    public static final Setting TEE = Setting.withDefault("tee", "auto",
            "auto (configfs-tsm, else an Azure confidential VM's vTPM; never falls back to simulated), snp, tdx, azure, "
                    + "coco-snp or coco-tdx (a Kata pod: the attestation agent of its guest) or simulated.");
    public static final Setting AGENT_URL = Setting.withDefault("tee.agent.url", AttestationAgentProvider.DEFAULT_URL.toString(),
            "With tee=coco-snp or coco-tdx: the attestation agent's REST API, http on a loopback address (the guest "
                    + "serves it with agent.guest_components_rest_api=attestation).");
    public static final Setting SIMULATED_TEE_DIR = Setting.optional("tee.simulated.dir",
            "Where the dev stack saved its simulated TEE; required with tee=simulated.");
    public static final Setting SIMULATED_MEASUREMENT = Setting.optional("tee.simulated.measurement",
            "Launch measurement the simulated TEE reports, hex; unset: the dev worker image's.");
    public static final Setting POOL = Setting.withDefault("pool", EnvelopeProtocol.DEFAULT_POOL,
            "The worker pool: the policy's pools say which models each serves; a pool other than 'default' reads "
                    + "FAMILY-POOL.CLIENT.");
    public static final Setting REQUEST_TOPIC_FAMILY = Setting.withDefault("request.topic.family",
            StreamProcessorConfig.DEFAULT_REQUEST_TOPIC_FAMILY, "Clients send to FAMILY.CLIENT; the worker reads every such topic.");
    public static final Setting ENGINE = Setting.withDefault("engine", "minilm",
            "minilm (int8 all-MiniLM-L6-v2 embeddings) or synthetic (the benchmark stand-in; no real policy lists its digest).");
    public static final Setting CHAT_MODEL = Setting.optional("chat.model",
            "Also serve chat with this GGUF model (llama.cpp); its SHA-256 must be among the policy's models. It is "
                    + "read once, into state.dir while hashed, and loaded from that copy: size state.dir for it.");
    public static final Setting MAX_BATCH_SIZE = Setting.withDefault("batch.max.size",
            StreamProcessorConfig.DEFAULT_MAX_BATCH_SIZE, "Requests in one engine batch at most.");
    public static final Setting BATCH_LINGER = Setting.withDefault("batch.linger.ms",
            StreamProcessorConfig.DEFAULT_BATCH_LINGER.toMillis(), "How long a batch waits to fill before it runs.");
    public static final Setting TRANSACTION_TIMEOUT = Setting.withDefault("transaction.timeout.ms",
            StreamProcessorConfig.DEFAULT_TRANSACTION_TIMEOUT.toMillis(),
            "Upper bound on one batch; also how long a dead worker's open transaction blocks readers.");
    public static final Setting COMMIT_INTERVAL = Setting.withDefault("commit.interval.ms",
            StreamProcessorConfig.DEFAULT_COMMIT_INTERVAL.toMillis(),
            "How often answers are committed, so how soon clients see them; each commit costs the brokers a "
                    + "transaction (docs/operations.md, Performance).");
    public static final Setting HEALTH_ADDRESS = Setting.withDefault("health.address", WorkerConfig.DEFAULT_HEALTH_ADDRESS,
            "Address /healthz and /readyz listen on; a pod's address or 0.0.0.0 for Kubernetes probes.");
    public static final Setting HEALTH_PORT = Setting.withDefault("health.port", 8080,
            "Port of /healthz and /readyz (0: a free one, printed at start).");

    /** The worker's settings, read from {@code worker.properties} and {@code SEALSTREAM_WORKER_*}. */
    public static final SettingsSchema SCHEMA = SettingsSchema.of("worker", "SEALSTREAM_WORKER_",
            SettingsSchema.settings(List.of(WORKER_ID), KAFKA.all(), List.of(REGISTRY_URL, KEY_BROKER_URL, STATE_DIR, TEE, AGENT_URL,
                    SIMULATED_TEE_DIR, SIMULATED_MEASUREMENT, POOL, REQUEST_TOPIC_FAMILY, ENGINE, CHAT_MODEL, MAX_BATCH_SIZE,
                    BATCH_LINGER, TRANSACTION_TIMEOUT, COMMIT_INTERVAL, HEALTH_ADDRESS, HEALTH_PORT, ServiceLogging.FORMAT)))
            .passThrough("streams", "Kafka Streams and client settings, passed as they are (e.g. "
                    + "streams.session.timeout.ms); the exactly-once and security settings cannot be overridden.");
}
