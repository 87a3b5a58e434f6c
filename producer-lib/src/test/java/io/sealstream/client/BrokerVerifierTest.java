package io.sealstream.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpReport;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.snp.TcbVersion;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.envelope.SealingKeyPair;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client refuses to send anything unless the key broker proves what it pinned. */
class BrokerVerifierTest {
    private static final String TOPIC = "sealstream.requests";
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] BROKER = filled(48, 0xB7);
    /** What the genuine broker's launch put in HOST_DATA (under Kata: its init-data's digest). */
    private static final byte[] HOST_DATA = filled(32, 0x4D);
    /** The owner's recovery key: the broker under test holds its root in recovery custody, as in production. */
    private static final SealingKeyPair OWNER = SealingKeyPair.generate();
    private static final String POLICY = """
            version: 1
            name: client-test
            allow-simulated: true
            models: ['%s']
            key-broker:
              measurements: ['%s']
              host-data: ['%s']
              recovery-key: %s
            tee:
              snp:
                measurements: ['%s']
                host-data: ['%s']
                min-tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
            """.formatted("ab".repeat(32), HexFormat.of().formatHex(BROKER), HexFormat.of().formatHex(HOST_DATA),
            java.util.Base64.getEncoder().encodeToString(OWNER.publicKey()), HexFormat.of().formatHex(BROKER),
            "77".repeat(32)); // the workers' init-data digest

    @TempDir
    Path dataDir;
    private KeyBrokerServer server;
    private final SnpVerifier devVerifier = SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot());
    private final String policyId = AttestationPolicy.parse(POLICY).id();

    @BeforeEach
    void start() {
        server = startBroker(dataDir, Custody.recovery());
    }

    private KeyBrokerServer startBroker(Path dir, Custody custody) {
        return startBroker(dir, custody, POLICY, launched(TEE, UnaryOperator.identity()));
    }

    private KeyBrokerServer startBroker(Path dir, Custody custody, String policy, EvidenceProvider evidence) {
        return KeyBrokerServer.start(KeyBrokerConfig.builder().dataDir(dir).policy(AttestationPolicy.parse(policy))
                .verifier(TeeType.SNP, devVerifier).ownEvidence(evidence).topics(List.of(TOPIC))
                .custody(custody).build());
    }

    /** The genuine broker's launch on {@code platform}, with {@code change} applied: one field differs at most. */
    private static EvidenceProvider launched(SimulatedSnpTee platform, UnaryOperator<SnpReport.Writer> change) {
        return new EvidenceProvider() {
            @Override
            public TeeType tee() {
                return TeeType.SNP;
            }

            @Override
            public io.sealstream.attestation.Evidence attest(byte[] reportData) {
                return platform.attest(change.apply(SimulatedSnpTee.report().measurement(BROKER).hostData(HOST_DATA))
                        .reportData(reportData));
            }
        };
    }

    /** Why a client pinned to {@code policy} refuses a broker that serves it with {@code evidence}. */
    private AttestationFailedException refusal(Path dir, String policy, EvidenceProvider evidence) {
        try (KeyBrokerServer broker = startBroker(dir, Custody.recovery(), policy, evidence)) {
            return catchThrowableOfType(AttestationFailedException.class, () -> verifier(broker.url(),
                    BrokerTrust.pinned(devVerifier, hex(BROKER), AttestationPolicy.parse(policy).id())).verify(TOPIC));
        }
    }

    // the negative matrix: evidence that differs from the genuine broker's in one field, under the pinned policy

    @Test
    void aBrokerRelaunchedWithDebuggingOnIsRefused(@TempDir Path dir) {
        AttestationFailedException e = refusal(dir, POLICY, launched(TEE, w -> w.debug(true)));

        assertThat(e.code()).isEqualTo("debug_enabled");
        assertThat(e).hasMessageContaining("client-test").hasMessageContaining("do not send data");
        assertThat(e.getMessage()).as("the code once").doesNotContain("debug_enabled");
    }

    @Test
    void aBrokerRelaunchedWithAMigrationAgentIsRefused(@TempDir Path dir) {
        assertThat(refusal(dir, POLICY, launched(TEE, w -> w.migrationAgent(true))).code())
                .isEqualTo("migration_agent_enabled");
    }

    @Test
    void aBrokerWhoseReportComesFromALessPrivilegedVmplIsRefused(@TempDir Path dir) {
        // a paravisor or SVSM below the guest could ask for a report on the guest's behalf
        assertThat(refusal(dir, POLICY, launched(TEE, w -> w.vmpl(1))).code()).isEqualTo("vmpl_not_allowed");
    }

    @Test
    void aBrokerOnFirmwareBelowThePolicysMinimumTcbIsRefused(@TempDir Path dir) {
        SimulatedSnpTee older = TEE.atTcb(TcbVersion.milan(3, 0, 7, 115));

        assertThat(refusal(dir, POLICY, launched(older, UnaryOperator.identity())).code()).isEqualTo("tcb_too_low");
    }

    @Test
    void aBrokerLaunchedWithOtherHostDataIsAnotherWorkloadAndRefused(@TempDir Path dir) {
        AttestationFailedException e = refusal(dir, POLICY, launched(TEE, w -> w.hostData(filled(32, 0x01))));

        assertThat(e.code()).isEqualTo("unknown_measurement");
        assertThat(e).hasMessageContaining("key-broker.host-data");
    }

    @Test
    void simulatedEvidenceIsRefusedUnderAPolicyThatDoesNotAllowIt(@TempDir Path dir) {
        String strict = POLICY.replace("allow-simulated: true", "allow-simulated: false");

        assertThat(refusal(dir, strict, launched(TEE, UnaryOperator.identity())).code()).isEqualTo("simulated_not_allowed");
    }

    @Test
    void aPolicyThatNamesNoBrokerMeasurementAdmitsNoBroker(@TempDir Path dir) {
        String silent = POLICY.replaceFirst("  measurements: \\['[0-9a-f]+'\\]\n  host-data", "  host-data");

        assertThat(silent).isNotEqualTo(POLICY);
        assertThat(refusal(dir, silent, launched(TEE, UnaryOperator.identity())).code()).isEqualTo("unknown_measurement");
    }

    @Test
    void aStrictClientRefusesABrokerInDevCustody(@TempDir Path devDir) {
        try (KeyBrokerServer dev = startBroker(devDir, Custody.insecureDevFile())) {
            AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class, () ->
                    verifier(dev.url(), BrokerTrust.pinned(devVerifier, hex(BROKER), policyId)).verify(TOPIC));

            assertThat(e.code()).isEqualTo("dev_custody");
            assertThat(e).hasMessageContaining("host can read");
        }
    }

    @Test
    void aBrokerInAKataPodWhoseEvidenceCarriesTheBindingAsTextIsVerified(@TempDir Path dir) {
        // the guest's attestation agent puts the binding's text form into report_data
        try (KeyBrokerServer kata = startBroker(dir, Custody.recovery(), POLICY, textBound(rd -> rd))) {
            VerifiedTopic v = verifier(kata.url(), BrokerTrust.pinned(devVerifier, hex(BROKER), policyId)).verify(TOPIC);

            assertThat(v.keys().topic()).isEqualTo(TOPIC);
        }
    }

    @Test
    void aBrokerShowingTheTextOfAnotherBindingIsRefused(@TempDir Path dir) {
        AttestationFailedException e = refusal(dir, POLICY, textBound(rd -> {
            byte[] other = rd.clone();
            other[0] ^= 1;
            return other;
        }));

        assertThat(e.code()).isEqualTo("report_data_mismatch");
    }

    /** The genuine broker's launch, its report_data the text form of what {@code binding} makes of the asked binding. */
    private static EvidenceProvider textBound(UnaryOperator<byte[]> binding) {
        EvidenceProvider genuine = launched(TEE, UnaryOperator.identity());
        return new EvidenceProvider() {
            @Override
            public TeeType tee() {
                return TeeType.SNP;
            }

            @Override
            public io.sealstream.attestation.Evidence attest(byte[] reportData) throws AttestationException {
                return genuine.attest(ReportDataBinding.textReportData(binding.apply(reportData)));
            }
        };
    }

    @Test
    void aClientThatAllowsDevCustodyAcceptsTheDevStacksBroker(@TempDir Path devDir) {
        try (KeyBrokerServer dev = startBroker(devDir, Custody.insecureDevFile())) {
            VerifiedTopic v = verifier(dev.url(), BrokerTrust.pinned(devVerifier, hex(BROKER), policyId)
                    .allowingDevCustody()).verify(TOPIC);

            assertThat(v.keys().topic()).isEqualTo(TOPIC);
        }
    }

    @Test
    void aBrokerClaimingSealedCustodyWhileItsEvidenceSaysDevIsRefused(@TempDir Path devDir) throws Exception {
        try (KeyBrokerServer dev = startBroker(devDir, Custody.insecureDevFile())) {
            // a host in the middle forwards the client's nonce and rewrites "dev" to "recovery" in the genuine answer
            KeyBrokerClient real = new KeyBrokerClient(dev.url(), Duration.ofSeconds(5));
            HttpServer middle = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            middle.createContext("/", ex -> {
                String query = ex.getRequestURI().getRawQuery();
                byte[] nonce = java.util.Base64.getUrlDecoder().decode(query.substring(query.indexOf("nonce=") + 6));
                byte[] body;
                try {
                    var genuine = real.publicKeys(TOPIC, nonce);
                    body = KeyBrokerJson.mapper().writeValueAsBytes(new io.sealstream.keybroker.api.PublicTopicKeys(
                            genuine.topic(), genuine.keyset(), genuine.primaryKeyId(), genuine.keysetFingerprint(),
                            genuine.policy(), genuine.policyId(), "recovery", genuine.evidence(), genuine.primaryRotatesAt(),
                            genuine.tdxCollateral(), genuine.logKey(), genuine.policyLogIndex(),
                            genuine.measurementLogIndex()));
                } catch (io.sealstream.keybroker.api.KeyBrokerException e) {
                    throw new java.io.IOException(e);
                }
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            middle.start();
            try {
                AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class, () ->
                        new BrokerVerifier(new KeyBrokerClient("http://127.0.0.1:" + middle.getAddress().getPort(),
                                Duration.ofSeconds(5)), BrokerTrust.pinned(devVerifier, hex(BROKER), policyId),
                                Clock.systemUTC()).verify(TOPIC));

                assertThat(e.code()).isEqualTo("report_data_mismatch");
            } finally {
                middle.stop(0);
            }
        }
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theTopicKeysAreAcceptedWhenEvidenceMeasurementAndPolicyMatchThePins() {
        VerifiedTopic v = verifier(server.url(), BrokerTrust.pinned(devVerifier, hex(BROKER), policyId)).verify(TOPIC);

        assertThat(v.keys().topic()).isEqualTo(TOPIC);
        assertThat(v.policy().id()).isEqualTo(policyId);
        assertThat(v.brokerClaims().simulated()).isTrue();
        assertThat(v.policy().allowedModelDigests()).containsExactly("ab".repeat(32));
    }

    @Test
    void anotherBrokerMeasurementIsRefused() {
        PolicyMismatchException e = catchThrowableOfType(PolicyMismatchException.class, () ->
                verifier(server.url(), BrokerTrust.pinned(devVerifier, "cc".repeat(48), policyId)).verify(TOPIC));

        assertThat(e).hasMessageContaining(hex(BROKER)).hasMessageContaining("pinned");
    }

    @Test
    void anotherPolicyIsRefused() {
        String pinned = "0f".repeat(32);

        PolicyMismatchException e = catchThrowableOfType(PolicyMismatchException.class, () ->
                verifier(server.url(), BrokerTrust.pinned(devVerifier, hex(BROKER), pinned)).verify(TOPIC));

        assertThat(e).hasMessageContaining(policyId).hasMessageContaining(pinned);
    }

    @Test
    void evidenceFromAnUntrustedRootIsRefused() {
        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class, () ->
                verifier(server.url(), BrokerTrust.pinned(SnpVerifier.trusting(List.of()), hex(BROKER), policyId))
                        .verify(TOPIC));

        assertThat(e.code()).isEqualTo("unknown_root");
        assertThat(e).hasMessageContaining("do not send data");
    }

    @Test
    void aReplayedAnswerForAnotherNonceIsRefused() throws Exception {
        // an attacker in the middle replays a genuine answer the broker gave for another nonce
        byte[] recorded = KeyBrokerJson.mapper().writeValueAsBytes(
                new KeyBrokerClient(server.url(), Duration.ofSeconds(5)).publicKeys(TOPIC, filled(32, 1)));
        HttpServer replay = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        replay.createContext("/", ex -> {
            ex.sendResponseHeaders(200, recorded.length);
            ex.getResponseBody().write(recorded);
            ex.close();
        });
        replay.start();
        try {
            AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class, () ->
                    verifier("http://127.0.0.1:" + replay.getAddress().getPort(),
                            BrokerTrust.pinned(devVerifier, hex(BROKER), policyId)).verify(TOPIC));

            assertThat(e.code()).isEqualTo("report_data_mismatch");
        } finally {
            replay.stop(0);
        }
    }

    @Test
    void anUnknownTopicOrAnUnreachableBrokerMeansNoKeys() {
        BrokerTrust trust = BrokerTrust.pinned(devVerifier, hex(BROKER), policyId);

        assertThat(catchThrowableOfType(KeyUnavailableException.class,
                () -> verifier(server.url(), trust).verify("sealstream.requests.nobody"))).hasMessageContaining("unknown_topic");
        server.close();
        assertThat(catchThrowableOfType(KeyUnavailableException.class,
                () -> verifier(server.url(), trust).verify(TOPIC))).hasMessageContaining("unreachable");
        start();
    }

    @Test
    void aTrustWithoutPinsCannotBeBuilt() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> new BrokerTrust(devVerifier, java.util.Set.of(), policyId))).hasMessageContaining("measurement");
        assertThat(catchThrowableOfType(IllegalArgumentException.class,
                () -> BrokerTrust.pinned(devVerifier, hex(BROKER), "not-an-id"))).hasMessageContaining("policy id");
    }

    private static BrokerVerifier verifier(String url, BrokerTrust trust) {
        return new BrokerVerifier(new KeyBrokerClient(url, Duration.ofSeconds(5)), trust, Clock.systemUTC());
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }

    @Test
    void aTdxBrokersServedCollateralGivesItsQuoteATcbStatus() throws Exception {
        java.nio.file.Path d = java.nio.file.Path.of(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors",
                "azure", "tdx", "flashbots-2026-06-08", "derived");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(d),
                "Azure TDX capture missing: " + d + " (../shared/vectors is not beside the checkout)");
        io.sealstream.attestation.Evidence evidence = io.sealstream.attestation.azure.AzureEvidence.fromParts(d)
                .toEvidence(List.of());
        java.time.Instant inWindow = java.time.Instant.parse("2026-06-08T12:42:41Z");

        var withCollateral = BrokerVerifier.verifierFor(evidence.tee(), java.nio.file.Files.readString(d.resolve("collateral.json")))
                .orElseThrow().verify(evidence, inWindow);

        assertThat(withCollateral.tcbStatus()).contains("UpToDate");
        assertThat(BrokerVerifier.verifierFor(evidence.tee(), null)).as("no collateral: the pinned verifier decides").isEmpty();
        assertThat(BrokerVerifier.verifierFor(TeeType.SNP, "{}")).as("collateral means nothing to SNP").isEmpty();
    }

    @Test
    void oversizedCollateralIsRefusedBeforeItIsParsed() {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> BrokerVerifier.verifierFor(
                TeeType.AZURE_TDX, "x".repeat(io.sealstream.keybroker.api.PublicTopicKeys.MAX_COLLATERAL + 1)));

        assertThat(e.failure()).isEqualTo(io.sealstream.attestation.AttestationFailure.MALFORMED_EVIDENCE);
    }

    @Test
    void collateralThatDoesNotParseIsRefused() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> BrokerVerifier.verifierFor(TeeType.TDX, "{\"tcb_info\": 1}"));

        assertThat(e.failure()).isEqualTo(io.sealstream.attestation.AttestationFailure.BAD_COLLATERAL);
    }
}
