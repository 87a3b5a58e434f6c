package io.sealstream.keybroker;

import io.sealstream.envelope.EnvelopeDefaults;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.service.KafkaConnectionSettings;
import io.sealstream.service.ServiceLogging;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.service.Setting;
import io.sealstream.service.SettingsSchema;
import java.util.List;

/**
 * Every setting of the key broker process ({@link KeyBrokerMain}, {@code sealstream key-broker}): the one place its config keys, environment variables and defaults are declared.
 * docs/configuration.md and the deployment manifests are checked against it.
 */
public final class KeyBrokerSettings {
    private KeyBrokerSettings() {
    }

    public static final Setting BIND_ADDRESS = Setting.withDefault("http.address", KeyBrokerConfig.DEFAULT_BIND_ADDRESS,
            "Address the HTTP API listens on; a pod's address or 0.0.0.0 to serve workers and clients on other hosts.");
    public static final Setting PORT = Setting.withDefault("http.port", 8090, "Port of the HTTP API (0: a free one, printed at start).");
    public static final Setting METRICS_ADDRESS = Setting.withDefault("metrics.address", KeyBrokerConfig.DEFAULT_BIND_ADDRESS,
            "Address /metrics listens on, apart from the API; a pod's address or 0.0.0.0 for Prometheus.");
    public static final Setting METRICS_PORT = Setting.withDefault("metrics.port", 8091,
            "Port of /metrics (0: a free one); admit only Prometheus to it.");
    public static final Setting DATA_DIR = Setting.required("data.dir",
            "Where the custody record and the sealed keysets live (a persistent volume; ciphertext only outside dev custody).");
    public static final Setting POLICY_FILE = Setting.required("policy.file",
            "The attestation policy (YAML, docs/attestation.md): which measurements, models and TCBs get keys.");
    public static final Setting CUSTODY = Setting.required("custody",
            "Where the root secret comes from: recovery (escrowed to the owner's key), peer (from a running replica) "
                    + "or dev (a cleartext file: the simulated stack only). No default: choose.");
    public static final Setting CUSTODY_PEER_URL = Setting.optional("custody.peer.url",
            "With custody=peer: the URL of the running replica to take the root from.");
    public static final Setting TEE = Setting.withDefault("tee", "auto",
            "The TEE the broker runs in, for the evidence it shows clients: auto (configfs-tsm, else an Azure confidential "
                    + "VM's vTPM), snp, tdx, azure, coco-snp or coco-tdx (a Kata pod: the attestation agent of its guest) "
                    + "or simulated.");
    public static final Setting AGENT_URL = Setting.withDefault("tee.agent.url", AttestationAgentProvider.DEFAULT_URL.toString(),
            "With tee=coco-snp or coco-tdx: the attestation agent's REST API, http on a loopback address (the guest "
                    + "serves it with agent.guest_components_rest_api=attestation).");
    public static final Setting SIMULATED_TEE_DIR = Setting.optional("tee.simulated.dir",
            "With tee=simulated: where the dev stack saved its simulated TEE; its development root is then trusted "
                    + "for evidence only if the policy says allow-simulated.");
    public static final Setting SIMULATED_MEASUREMENT = Setting.optional("tee.simulated.measurement",
            "Launch measurement the simulated TEE reports, hex; unset: the dev key broker image's.");
    public static final Setting OWN_COLLATERAL = Setting.optional("tee.collateral",
            "For a broker on TDX: Intel's collateral for its own platform (QuoteCollateralV3 JSON), served beside its "
                    + "evidence so that clients can judge its TCB status; without it clients refuse a TDX broker.");
    public static final Setting TDX_COLLATERAL = Setting.optional("tdx.collateral",
            "Comma-separated TDX collateral files (QuoteCollateralV3 JSON), one per platform FMSPC; without them no "
                    + "TDX evidence gets a TCB status, which policies with TDX rules require.");
    public static final Setting AZURE_VTPM_CERTIFICATES = Setting.optional("azure.vtpm.certificates",
            "Comma-separated PEM files of Azure's vTPM CA certificates: the roots (self-signed) and any intermediate the VMs "
                    + "do not ship. Set: Azure evidence must carry its attestation key's certificate, chaining to one of "
                    + "these roots. Unset: the key is trusted through the runtime claims the SNP report or TD quote binds.");
    public static final Setting TOPICS = Setting.withDefault("topics", EnvelopeProtocol.REQUEST_TOPIC_FAMILY,
            "Comma-separated request topic families to provision keys for at start (one per worker pool).");
    public static final Setting ROTATION_INTERVAL = Setting.withDefault("rotation.interval.ms",
            EnvelopeDefaults.ROTATION_INTERVAL.toMillis(), "How often each topic's key is replaced.");
    public static final Setting GRACE = Setting.withDefault("grace.ms", EnvelopeDefaults.GRACE.toMillis(),
            "How long a replaced key still opens requests sealed before the rotation.");
    public static final Setting PENDING_LEAD = Setting.withDefault("pending.lead.ms",
            KeyBrokerConfig.DEFAULT_PENDING_LEAD.toMillis(),
            "How long before a rotation the next key reaches workers; more than a worker's key refresh interval.");
    public static final Setting ROTATION_CHECK = Setting.withDefault("rotation.check.ms",
            KeyBrokerConfig.DEFAULT_ROTATION_CHECK.toMillis(), "How often the broker looks for keys due for rotation.");
    public static final Setting LEASE_TTL = Setting.withDefault("lease.ttl.ms", KeyBrokerConfig.DEFAULT_LEASE_TTL.toMillis(),
            "How long a worker's lease lets it fetch keys before it must attest again.");
    public static final Setting NONCE_TTL = Setting.withDefault("nonce.ttl.ms", KeyBrokerConfig.DEFAULT_NONCE_TTL.toMillis(),
            "How long a nonce from /v1/auth stays usable.");
    public static final Setting PUBLIC_RATE = Setting.withDefault("rate.public.per.second",
            KeyBrokerConfig.DEFAULT_PUBLIC_REQUESTS_PER_SECOND,
            "Unauthenticated calls a second per source address (bursts of twice that).");
    public static final Setting ATTESTATION_RATE = Setting.withDefault("rate.attestations.per.second",
            KeyBrokerConfig.DEFAULT_ATTESTATIONS_PER_SECOND, "Attestations and key releases a second per source address.");

    /** How the key broker reaches the audit topic, as its own principal. */
    public static final KafkaConnectionSettings KAFKA = KafkaConnectionSettings.optional("key broker", "the key broker's",
            "'sealstream workers provision' writes key-broker.credentials",
            "no audit topic, which only audit.sink=log admits");
    public static final Setting REGISTRY_URL = Setting.optional("schema.registry.url",
            "Confluent-compatible schema registry URL, where the audit events' schema is registered; needed with "
                    + "audit.sink=kafka.");
    public static final Setting AUDIT_SINK = Setting.withDefault("audit.sink", "kafka",
            "Where audit events go besides the log: kafka (the hash-chained sealstream.audit topic, docs/observability.md) "
                    + "or log (the log only: nothing shows a deleted event; for a broker without Kafka).");
    public static final Setting AUDIT_PRODUCER = Setting.optional("audit.producer",
            "This replica's name in the audit chain, stable across restarts so its chain continues; unset: "
                    + "key-broker/HOSTNAME (a StatefulSet pod's name).");

    /** The key broker's settings, read from {@code key-broker.properties} and {@code SEALSTREAM_KEY_BROKER_*}. */
    public static final SettingsSchema SCHEMA = SettingsSchema.of("key broker", "SEALSTREAM_KEY_BROKER_",
            SettingsSchema.settings(List.of(BIND_ADDRESS, PORT, METRICS_ADDRESS, METRICS_PORT, DATA_DIR, POLICY_FILE, CUSTODY,
                    CUSTODY_PEER_URL, TEE, AGENT_URL, SIMULATED_TEE_DIR, SIMULATED_MEASUREMENT, OWN_COLLATERAL, TDX_COLLATERAL, AZURE_VTPM_CERTIFICATES,
                    TOPICS,
                    ROTATION_INTERVAL, GRACE, PENDING_LEAD, ROTATION_CHECK, LEASE_TTL, NONCE_TTL, PUBLIC_RATE,
                    ATTESTATION_RATE, AUDIT_SINK, AUDIT_PRODUCER), KAFKA.all(), List.of(REGISTRY_URL, ServiceLogging.FORMAT)));
}
