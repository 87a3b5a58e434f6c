package io.sealstream.keybroker;

import static io.sealstream.keybroker.KeyBrokerSettings.*;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeVerifiers;
import io.sealstream.attestation.azure.AzureVerifier;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.AmdRoots;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxVerifier;
import io.sealstream.attestation.tsm.ConfigfsTsmProvider;
import io.sealstream.attestation.tsm.TeeSelection;
import io.sealstream.audit.AuditTopic;
import io.sealstream.audit.KafkaAuditSink;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.service.KafkaConnectionSettings;
import io.sealstream.service.ServiceLauncher;
import io.sealstream.service.ServiceExit;
import io.sealstream.service.ServiceProcess;
import io.sealstream.service.ServiceSettings;
import io.sealstream.service.Setting;
import io.sealstream.service.SettingsException;
import io.sealstream.tenancy.KafkaNames;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key broker process: {@code java -cp <key-broker's class path> io.sealstream.keybroker.KeyBrokerMain
 * [--config key-broker.properties]}. It reads {@link KeyBrokerSettings}, takes its root secret as
 * its custody mode says, serves the HTTP API until SIGTERM, and exits with a {@link ServiceExit}.
 * {@code sealstream key-broker} runs the same code.
 */
public final class KeyBrokerMain {
    private static final Logger LOG = LoggerFactory.getLogger(KeyBrokerMain.class);

    private KeyBrokerMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.main(SCHEMA, args, KeyBrokerMain::run);
    }

    /** Starts the key broker from {@code settings} and serves until {@code process} is asked to stop. */
    public static ServiceExit run(ServiceSettings settings, ServiceProcess process, PrintStream out, PrintStream err) {
        KeyBrokerConfig config;
        try {
            config = config(settings);
        } catch (SettingsException | IllegalArgumentException e) {
            return refuse(err, ServiceExit.CONFIG_INVALID, e.getMessage());
        } catch (AttestationException | UncheckedIOException | IllegalStateException e) {
            return refuse(err, ServiceExit.NO_TEE, "no usable TEE (" + TEE.name() + "=" + settings.string(TEE) + "): "
                    + e.getMessage());
        }
        KeyBrokerServer server;
        try {
            server = KeyBrokerServer.start(config);
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof java.net.BindException) {
                return refuse(err, ServiceExit.UNAVAILABLE, e.getMessage() + " (" + e.getCause().getMessage()
                        + "); free the port or set " + PORT.name());
            }
            return refuse(err, ServiceExit.UNAVAILABLE, e.getMessage() + " (" + e.getCause().getMessage()
                    + "); check that " + DATA_DIR.name() + " is a writable directory");
        } catch (IllegalStateException e) {
            return refuse(err, ServiceExit.CUSTODY_FAILED, e.getMessage());
        }
        out.println("key broker started at " + server.url() + " (custody " + config.custody().mode().id() + ", ready at "
                + server.url() + "/readyz)");
        out.flush();
        try {
            process.awaitStop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
        LOG.info("keybroker.exit exit={} code={}", ServiceExit.STOPPED, ServiceExit.STOPPED.code());
        return ServiceExit.STOPPED;
    }

    private static ServiceExit refuse(PrintStream err, ServiceExit exit, String message) {
        err.println(SCHEMA.refusalLine(message));
        LOG.error("keybroker.start.failed exit={} reason=\"{}\"", exit, message);
        return exit;
    }

    /** The key broker's configuration from its settings. */
    static KeyBrokerConfig config(ServiceSettings s) throws AttestationException {
        AttestationPolicy policy;
        try {
            policy = AttestationPolicy.fromFile(Path.of(s.string(POLICY_FILE)));
        } catch (UncheckedIOException e) {
            throw new SettingsException("key broker: cannot read the policy file (" + POLICY_FILE.name() + " from "
                    + s.source(POLICY_FILE) + "): " + e.getCause().getMessage());
        } catch (IllegalArgumentException e) {
            throw new SettingsException("key broker: the policy file (" + POLICY_FILE.name() + " from "
                    + s.source(POLICY_FILE) + ") is not a valid policy: " + e.getMessage());
        }
        String tee = s.choice(TEE, TeeSelection.CHOICES.toArray(String[]::new));
        Custody custody = custody(s, tee); // a configuration error is reported before the TEE is asked
        Optional<AuditTopic> audit = auditTopic(s);
        Optional<String> auditProducer = audit.map(t -> auditProducer(s));
        Optional<SimulatedSnpTee> simulated = Optional.empty();
        if (tee.equals("simulated")) {
            Path dir = s.path(SIMULATED_TEE_DIR).orElseThrow(() -> new SettingsException("key broker: tee=simulated needs "
                    + SIMULATED_TEE_DIR.name() + ", the directory 'sealstream up' printed"));
            simulated = Optional.of(SimulatedSnpTee.load(dir));
        }
        byte[] measurement;
        try {
            measurement = s.optional(SIMULATED_MEASUREMENT).map(HexFormat.of()::parseHex)
                    .orElseGet(SimulatedSnpTee::devBrokerMeasurement);
        } catch (IllegalArgumentException e) {
            throw s.invalid(SIMULATED_MEASUREMENT, "hex (96 digits for a SHA-384 measurement)");
        }
        Optional<SimulatedSnpTee> sim = simulated;
        EvidenceProvider own = TeeSelection.select(tee, ConfigfsTsmProvider.DEFAULT_ROOT, s.parsed(AGENT_URL, AttestationAgentProvider::url),
                () -> sim.orElseThrow().provider(measurement));
        KeyBrokerConfig.Builder b = KeyBrokerConfig.builder()
                .bindAddress(s.string(BIND_ADDRESS)).port(s.integer(PORT, 0, 65_535))
                .metricsAddress(s.string(METRICS_ADDRESS)).metricsPort(s.integer(METRICS_PORT, 0, 65_535))
                .dataDir(Path.of(s.string(DATA_DIR))).policy(policy).ownEvidence(own).custody(custody)
                .topics(s.list(TOPICS))
                .rotationInterval(s.millis(ROTATION_INTERVAL, Duration.ofSeconds(1)))
                .grace(s.millis(GRACE, Duration.ofSeconds(1)))
                .pendingLead(s.millis(PENDING_LEAD, Duration.ofSeconds(1)))
                .rotationCheck(s.millis(ROTATION_CHECK, Duration.ofMillis(100)))
                .leaseTtl(s.millis(LEASE_TTL, Duration.ofSeconds(1)))
                .nonceTtl(s.millis(NONCE_TTL, Duration.ofSeconds(1)))
                .rateLimits(s.decimal(PUBLIC_RATE, 0.01), s.decimal(ATTESTATION_RATE, 0.01));
        // the development root is trusted only where the policy admits simulated evidence and a
        // simulated TEE was named: a production policy never sees it
        SnpVerifier snp = simulated.filter(t -> policy.allowsSimulated())
                .map(t -> SnpVerifier.trustingDevelopmentRoot(AmdRoots.get().arks(), t.developmentRoot()))
                .orElseGet(SnpVerifier::withAmdRoots);
        List<TdxCollateral> collateral = new ArrayList<>();
        for (String file : s.list(TDX_COLLATERAL)) {
            try {
                collateral.add(TdxCollateral.load(Path.of(file)));
            } catch (AttestationException e) {
                throw new SettingsException("key broker: the TDX collateral " + file + " (" + TDX_COLLATERAL.name()
                        + " from " + s.source(TDX_COLLATERAL) + ") cannot be used: " + e.getMessage());
            }
        }
        TdxVerifier tdx = TdxVerifier.withIntelRoot().withCollateral(collateral);
        if (s.optional(OWN_COLLATERAL).isPresent()) {
            String file = s.string(OWN_COLLATERAL);
            try {
                String json = java.nio.file.Files.readString(Path.of(file));
                TdxCollateral.fromQuoteCollateralJson(json); // refused now rather than by every client
                b.ownTdxCollateral(json);
            } catch (java.io.IOException | AttestationException e) {
                throw new SettingsException("key broker: the broker's own TDX collateral " + file + " ("
                        + OWN_COLLATERAL.name() + " from " + s.source(OWN_COLLATERAL) + ") cannot be used: " + e.getMessage());
            }
        }
        AzureVerifier azure = AzureVerifier.of(SnpVerifier.withAmdRoots(), tdx); // never the development root
        List<X509Certificate> vtpmCertificates = azureVtpmCertificates(s);
        if (!vtpmCertificates.isEmpty()) {
            List<X509Certificate> roots = vtpmCertificates.stream()
                    .filter(c -> c.getSubjectX500Principal().equals(c.getIssuerX500Principal())).toList();
            if (roots.isEmpty()) {
                throw s.invalid(AZURE_VTPM_CERTIFICATES, "PEM files that hold at least one self-signed root "
                        + "(Azure Virtual TPM Root Certificate Authority 2023)");
            }
            azure = azure.withAttestationKeyRoots(roots, vtpmCertificates.stream().filter(c -> !roots.contains(c)).toList());
        }
        TeeVerifiers.of(snp, tdx, azure).asMap().forEach(b::verifier);
        if (simulated.isPresent() && !policy.allowsSimulated()) {
            throw new SettingsException("key broker: tee=simulated with a policy that refuses simulated evidence (policy "
                    + policy.id() + "): clients would refuse this broker's own evidence; run it in a real TEE (tee=auto), "
                    + "or use a development policy with allow-simulated: true");
        }
        // last: the sink starts its sender thread, which the server closes (or its failed start does)
        Optional<KafkaAuditSink> sink = audit.map(topic -> new KafkaAuditSink(auditProducer.orElseThrow(), topic));
        sink.ifPresent(b::auditSink);
        try {
            return b.build();
        } catch (RuntimeException e) {
            sink.ifPresent(KafkaAuditSink::close);
            throw e;
        }
    }

    /** The certificates {@code azure.vtpm.certificates} names, or none. */
    private static List<X509Certificate> azureVtpmCertificates(ServiceSettings s) {
        List<X509Certificate> out = new ArrayList<>();
        for (String file : s.list(AZURE_VTPM_CERTIFICATES)) {
            try (java.io.InputStream in = java.nio.file.Files.newInputStream(Path.of(file))) {
                for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificates(in)) {
                    out.add((X509Certificate) c);
                }
            } catch (java.io.IOException | java.security.cert.CertificateException e) {
                throw s.invalid(AZURE_VTPM_CERTIFICATES, "readable PEM certificate files (" + file + " is not)");
            }
        }
        return out;
    }

    /**
     * The audit topic as the key broker's principal reaches it; empty with {@code audit.sink=log}.
     * Settings that cannot work are refused here (a producer is built once, so a CA that is not PEM
     * or a bootstrap host that does not resolve stops the start); reaching Kafka is the sink's own
     * affair: a broker whose cluster is down still starts, and its events wait in the sink's queue
     * (docs/observability.md, "The audit topic").
     */
    private static Optional<AuditTopic> auditTopic(ServiceSettings s) {
        boolean toKafka = s.choice(AUDIT_SINK, "kafka", "log").equals("kafka");
        if (!toKafka) {
            List<Setting> unused = new ArrayList<>(KAFKA.all());
            unused.addAll(List.of(REGISTRY_URL, AUDIT_PRODUCER));
            unused.remove(KAFKA.securityProtocol()); // it has a default
            for (Setting u : unused) {
                if (s.optional(u).isPresent()) {
                    throw new SettingsException("key broker: " + AUDIT_SINK.name() + "=log with " + u.name()
                            + " set: it would go unused; set " + AUDIT_SINK.name() + "=kafka to write the audit topic, "
                            + "or remove the audit topic's settings");
                }
            }
            LOG.warn("keybroker.audit.log_only remedy=\"set audit.sink=kafka with the kafka.* settings: only the audit "
                    + "topic's hash chain shows a deleted or altered event\"");
            return Optional.empty();
        }
        Optional<KafkaConnectionSettings.KafkaConnection> kafka = KAFKA.read(s);
        if (kafka.isEmpty() || s.optional(REGISTRY_URL).isEmpty()) {
            throw new SettingsException("key broker: " + AUDIT_SINK.name() + "=kafka (the default) needs "
                    + KAFKA.bootstrapServers().name() + " and " + REGISTRY_URL.name() + " (with the key broker's Kafka "
                    + "credentials, which 'sealstream workers provision' writes as key-broker.credentials); or set "
                    + AUDIT_SINK.name() + "=log to keep audit events in the log only");
        }
        SchemaRegistryClient registry;
        try {
            registry = new SchemaRegistryClient(s.string(REGISTRY_URL), Duration.ofSeconds(10));
        } catch (IllegalArgumentException e) {
            throw s.invalid(REGISTRY_URL, "an http or https URL"); // the value is not repeated: it may hold a token
        }
        AuditTopic topic = new AuditTopic(KafkaNames.AUDIT_TOPIC, kafka.get().clientConfig(), registry);
        try {
            topic.checkClientSettings();
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new SettingsException("key broker: Kafka refused the audit topic's client settings ("
                    + e.getClass().getSimpleName() + (e.getCause() == null ? "" : ", " + e.getCause().getClass().getSimpleName())
                    + "); check " + KAFKA.bootstrapServers().name() + " (every host must resolve) and "
                    + KAFKA.caFile().name() + " (a PEM file)");
        }
        return Optional.of(topic);
    }

    /** This replica's name in the audit chain: stable across restarts, so its chain continues. */
    private static String auditProducer(ServiceSettings s) {
        Optional<String> set = s.optional(AUDIT_PRODUCER);
        String name = set.orElseGet(() -> "key-broker/" + hostName());
        if (!name.matches("key-broker/[A-Za-z0-9][A-Za-z0-9_.:-]{0,88}")) {
            throw set.isPresent() ? s.invalid(AUDIT_PRODUCER, "key-broker/ then 1 to 89 letters, digits and '_.:-'")
                    : new SettingsException("key broker: this host's name (HOSTNAME) does not make a legal audit chain "
                    + "name; set " + AUDIT_PRODUCER.name() + " to key-broker/ and a name of letters, digits and '_.:-'");
        }
        return name;
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            throw new SettingsException("key broker: this host has no name to call its audit chain by; set "
                    + AUDIT_PRODUCER.name());
        }
    }

    private static Custody custody(ServiceSettings s, String tee) {
        String mode = s.choice(CUSTODY, "recovery", "peer", "dev");
        switch (mode) {
            case "dev":
                if (!tee.equals("simulated")) {
                    throw new SettingsException("key broker: custody=dev keeps the root secret in a cleartext file on the "
                            + "host's disk; it is for the simulated stack only (tee=simulated). In a TEE choose "
                            + "custody=recovery or custody=peer (docs/key-broker.md, \"Custody\")");
                }
                return Custody.insecureDevFile();
            case "peer":
                return Custody.peer(s.optional(CUSTODY_PEER_URL).orElseThrow(() -> new SettingsException("key broker: "
                        + "custody=peer needs " + CUSTODY_PEER_URL.name() + ", the URL of a running replica")));
            default:
                return Custody.recovery();
        }
    }
}
