package io.sealstream.attestation.coco;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.simulated.SevCrateJson;
import io.sealstream.attestation.simulated.SevCrateJson.Shape;
import io.sealstream.attestation.simulated.SimulatedAttestationAgent;
import io.sealstream.attestation.simulated.SimulatedAttestationAgent.Answer;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxQuote;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Evidence through the Confidential Containers attestation agent, against a simulated agent that
 * answers as the agent does: SNP reports as the sev crate's JSON ({@link SevCrateJson}), TDX
 * quotes as base64. Real reports from Milan, Genoa and Turin machines (../shared/vectors) check
 * that the rebuilt bytes are the signed ones.
 */
class AttestationAgentProviderTest {
    private static final byte[] MEASUREMENT = filled(48, 0x5E);
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final Instant AT = Instant.parse("2026-01-15T00:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @EnumSource(Shape.class)
    void anSnpReportSentAsTheSevCratesJsonIsRebuiltToTheSignedBytesAndVerifies(Shape shape) throws Exception {
        byte[] binding = filled(64, 0x42);
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.serving(TEE, MEASUREMENT, shape)) {
            Evidence evidence = AttestationAgentProvider.open(agent.url(), TeeType.SNP).attest(binding);

            AttestedClaims claims = SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot())
                    .verify(evidence, Instant.now());
            assertThat(claims.reportData()).isEqualTo(ReportDataBinding.textReportData(binding));
            assertThat(ReportDataBinding.matches(binding, claims)).isTrue();
            assertThat(evidence.certificates()).hasSize(3);
        }
    }

    @ParameterizedTest
    @EnumSource(Shape.class)
    void realMilanGenoaAndTurinReportsAreRebuiltByteForByte(Shape shape) throws Exception {
        for (String name : List.of("virtee-sev/report_milan.bin", "yaxitech/report-genoa-v5.bin",
                "yaxitech/report-turin-v5.bin")) {
            byte[] report = Files.readAllBytes(snpVector(name));
            byte[] rebuilt = AgentSnpReport.toBytes(SevCrateJson.report(report, shape));

            if (shape == Shape.CRATE_6 && name.contains("genoa")) {
                // the mitigation vectors (0x1F8, 0x200) are set in this report and the crate leaves them out
                assertThat(rebuilt).as(name).isNotEqualTo(report);
                assertThat(Arrays.copyOf(rebuilt, 0x1F8)).as(name).isEqualTo(Arrays.copyOf(report, 0x1F8));
            } else {
                assertThat(rebuilt).as(name + " as " + shape).isEqualTo(report);
            }
        }
    }

    @Test
    void theRebuiltGenoaAndTurinReportsVerifyToAmdsRoot() throws Exception {
        SnpVerifier amd = SnpVerifier.withAmdRoots();
        for (String[] v : List.of(new String[] {"report-genoa-v5.bin", "vcek-chain-genoa-v5.pem"},
                new String[] {"report-turin-v5.bin", "vcek-chain-turin.pem"})) {
            byte[] rebuilt = AgentSnpReport.toBytes(SevCrateJson.report(
                    Files.readAllBytes(snpVector("yaxitech/" + v[0])), Shape.CRATE_6_WITH_MITIGATION_VECTORS));

            AttestedClaims claims = amd.verify(new Evidence(TeeType.SNP, rebuilt, chain("yaxitech/" + v[1])), AT);

            assertThat(claims.reportVersion()).as(v[0]).isEqualTo(5);
        }
    }

    @Test
    void aVersion5ReportWhoseMitigationVectorsTheAgentDropsIsRefusedInTheTeeNamingThem() throws Exception {
        byte[] genoa = Files.readAllBytes(snpVector("yaxitech/report-genoa-v5.bin"));
        List<byte[]> chain = chain("yaxitech/vcek-chain-genoa-v5.pem");
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok(SevCrateJson.evidence(genoa, Shape.CRATE_6, chain)
                .toString()))) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> AttestationAgentProvider.open(agent.url(), TeeType.SNP));

            assertThat(e.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
            assertThat(e.detail()).contains("does not verify with the VCEK", "report version 5", "launch_mit_vector",
                    "current_mit_vector", "update the guest components", "another chip's certificate");
        }
    }

    @Test
    void aGenuineSnpReportForOtherRuntimeDataIsRefused() throws Exception {
        byte[] genoa = Files.readAllBytes(snpVector("yaxitech/report-genoa-v5.bin"));
        List<byte[]> chain = chain("yaxitech/vcek-chain-genoa-v5.pem");
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok(SevCrateJson.evidence(genoa,
                Shape.CRATE_6_WITH_MITIGATION_VECTORS, chain).toString()))) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> AttestationAgentProvider.open(agent.url(), TeeType.SNP));

            assertThat(e.failure()).isEqualTo(AttestationFailure.REPORT_DATA_MISMATCH);
            assertThat(e.detail()).contains("other runtime data");
        }
    }

    @Test
    void theAgentsTdxQuoteIsPassedOnAsItsBytesAndVerifiesToIntelsRoot() throws Exception {
        byte[] quote = tdxQuote();
        ObjectNode answer = JSON.createObjectNode().put("cc_eventlog", Base64.getEncoder().encodeToString(
                filled(512, 0x11))).put("quote", Base64.getEncoder().encodeToString(quote));

        byte[] passedOn = AttestationAgentProvider.tdxQuote(answer);

        assertThat(passedOn).isEqualTo(quote);
        assertThat(TdxVerifier.withIntelRoot().verify(new Evidence(TeeType.TDX, passedOn, List.of()),
                Instant.parse("2025-06-01T00:00:00Z")).tee()).isEqualTo(TeeType.TDX);
    }

    @Test
    void aGenuineTdxQuoteForOtherRuntimeDataIsRefused() throws Exception {
        String answer = JSON.createObjectNode().putNull("cc_eventlog")
                .put("quote", Base64.getEncoder().encodeToString(tdxQuote())).toString();
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok(answer))) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> AttestationAgentProvider.open(agent.url(), TeeType.TDX));

            assertThat(e.failure()).isEqualTo(AttestationFailure.REPORT_DATA_MISMATCH);
        }
    }

    @Test
    void aMeasurementChangedInTheAgentsJsonFailsTheSignatureCheckInTheTee() throws Exception {
        try (SimulatedAttestationAgent agent = tamperingAgent(json -> {
            ((com.fasterxml.jackson.databind.node.ArrayNode) json.get("attestation_report").get("measurement")).set(0, 0x77);
            return json;
        })) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> AttestationAgentProvider.open(agent.url(), TeeType.SNP));

            assertThat(e.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
            assertThat(e.detail()).contains("does not verify with the VCEK");
        }
    }

    @Test
    void aFieldTheRebuildDoesNotKnowIsRefusedByNameNotDropped() {
        ObjectNode report = simulatedReport(Shape.CRATE_6);
        report.put("launch_svn_vector", 7);

        assertThatThrownBy(() -> AgentSnpReport.toBytes(report)).isInstanceOf(AttestationException.class)
                .hasMessageContaining("'launch_svn_vector'").hasMessageContaining("upgrade Sealstream");
    }

    @Test
    void aMissingFieldIsRefusedByName() {
        ObjectNode report = simulatedReport(Shape.CRATE_5);
        report.remove("chip_id");

        assertThatThrownBy(() -> AgentSnpReport.toBytes(report)).hasMessageContaining("no 'chip_id'");
    }

    @Test
    void valuesOutsideTheirFieldAndArraysOfTheWrongLengthAreRefused() {
        ObjectNode notAByte = simulatedReport(Shape.CRATE_6);
        ((com.fasterxml.jackson.databind.node.ArrayNode) notAByte.get("host_data")).set(3, 256);
        ObjectNode negative = simulatedReport(Shape.CRATE_6);
        negative.put("vmpl", -1);
        ObjectNode tooWide = simulatedReport(Shape.CRATE_6);
        tooWide.put("guest_svn", 1L << 32);
        ObjectNode short_ = simulatedReport(Shape.CRATE_6);
        ((com.fasterxml.jackson.databind.node.ArrayNode) short_.get("report_data")).remove(0);
        ObjectNode bothLayouts = simulatedReport(Shape.CRATE_5);
        ((ObjectNode) bothLayouts.get("launch_tcb")).put("fmc", 1);

        assertThatThrownBy(() -> AgentSnpReport.toBytes(notAByte)).hasMessageContaining("host_data[3] does not fit");
        assertThatThrownBy(() -> AgentSnpReport.toBytes(negative)).hasMessageContaining("vmpl does not fit");
        assertThatThrownBy(() -> AgentSnpReport.toBytes(tooWide)).hasMessageContaining("guest_svn does not fit");
        assertThatThrownBy(() -> AgentSnpReport.toBytes(short_)).hasMessageContaining("report_data is not an array of 64");
        assertThatThrownBy(() -> AgentSnpReport.toBytes(bothLayouts)).hasMessageContaining("both fmc");
    }

    @Test
    void anAnswerOverFourMiBIsRefusedWithoutBeingParsed() throws Exception {
        byte[] huge = new byte[AttestationAgentProvider.MAX_EVIDENCE_BYTES + 10];
        Arrays.fill(huge, (byte) ' ');
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> new Answer(200, huge))) {
            assertThatThrownBy(() -> AttestationAgentProvider.open(agent.url(), TeeType.SNP))
                    .hasMessageContaining("over 4 MiB");
        }
    }

    @Test
    void anAnswerThatIsNotJsonIsRefused() throws Exception {
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok("<html>hello</html>"))) {
            assertThatThrownBy(() -> AttestationAgentProvider.open(agent.url(), TeeType.SNP))
                    .hasMessageContaining("not one JSON object");
        }
    }

    @Test
    void anAgentWithItsApiTurnedOffSaysHowToTurnItOn() throws Exception {
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> new Answer(404, "not found\n\u0000".getBytes()))) {
            assertThatThrownBy(() -> AttestationAgentProvider.open(agent.url(), TeeType.SNP))
                    .hasMessageContaining("answered HTTP 404 (not found??)")
                    .hasMessageContaining("agent.guest_components_rest_api=attestation");
        }
    }

    @Test
    void noAgentListeningNamesTheAddressAndWhatToEnable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }

        assertThatThrownBy(() -> AttestationAgentProvider.open(URI.create("http://127.0.0.1:" + port), TeeType.SNP))
                .hasMessageContaining("cannot reach the attestation agent at http://127.0.0.1:" + port)
                .hasMessageContaining("agent.guest_components_rest_api=attestation");
    }

    @Test
    void anAgentOfTheOtherTeeIsRefusedAtOpen() throws Exception {
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.serving(TEE, MEASUREMENT, Shape.CRATE_6)) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> AttestationAgentProvider.open(agent.url(), TeeType.TDX));

            assertThat(e.failure()).isEqualTo(AttestationFailure.TEE_NOT_ALLOWED);
            assertThat(e.detail()).contains("tee=coco-tdx", "sends snp evidence");
        }
    }

    @Test
    void onlyAnHttpUrlOnALoopbackIpLiteralIsAccepted() {
        // names are refused, localhost and hex-only ones too: DNS and /etc/hosts belong to the host
        for (String url : List.of("https://127.0.0.1:8006", "http://10.0.0.4:8006", "http://agent.local:8006",
                "http://localhost:8006", "http://cafe:8006", "http://deadbeef:8006", "http://127.0.0.1:8006/aa",
                "http://user@127.0.0.1:8006", "http://[fe80::1]:8006", "http://127.1:8006")) {
            assertThatThrownBy(() -> AttestationAgentProvider.checkedUrl(URI.create(url))).as(url)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("use http://127.0.0.1:8006");
        }
        assertThat(AttestationAgentProvider.checkedUrl(URI.create("http://[::1]:8006/"))).hasToString("http://[::1]:8006");
        assertThat(AttestationAgentProvider.checkedUrl(URI.create("http://127.0.0.2:8006"))).hasToString("http://127.0.0.2:8006");
    }

    @Test
    void anAgentThatSendsItsHeadersAndThenStallsTimesOut() throws Exception {
        try (ServerSocket stalling = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                try (Socket s = stalling.accept()) {
                    s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"quote\":".getBytes());
                    s.getOutputStream().flush();
                    // the rest of the body never comes: hold the connection until the client gives it up
                    while (s.getInputStream().read() != -1) {
                        // the request, then nothing
                    }
                } catch (java.io.IOException ignored) {
                    // the client reset the connection
                }
            });
            server.setDaemon(true);
            server.start();
            long started = System.nanoTime();

            assertThatThrownBy(() -> AttestationAgentProvider.open(URI.create("http://127.0.0.1:" + stalling.getLocalPort()),
                    TeeType.TDX, Duration.ofSeconds(1))).hasMessageContaining("did not answer within 1 s");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
        }
    }

    @Test
    void anAnswerNamingAFieldTwiceIsRefused() throws Exception {
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok(
                "{\"quote\":\"AAAA\",\"quote\":\"BBBB\"}"))) {
            assertThatThrownBy(() -> AttestationAgentProvider.open(agent.url(), TeeType.TDX))
                    .hasMessageContaining("names a field twice");
        }
    }

    @Test
    void anAnswerWithASecondObjectAfterTheFirstIsRefused() throws Exception {
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> Answer.ok(
                "{\"quote\":\"AAAA\"}{\"quote\":\"BBBB\"}"))) {
            assertThatThrownBy(() -> AttestationAgentProvider.open(agent.url(), TeeType.TDX))
                    .hasMessageContaining("not one JSON object");
        }
    }

    @Test
    void aTdxAnswerForThisRequestsTextIsPassedOnAsTheQuotesBytes() throws Exception {
        byte[] genuine = tdxQuote();
        byte[] genuineReportData = TdxQuote.parse(genuine).reportData();
        int at = indexOf(genuine, genuineReportData);
        try (SimulatedAttestationAgent agent = SimulatedAttestationAgent.answering(rd -> {
            // the real quote with this request's text in its report_data: the provider passes it on,
            // the key broker's signature check is what would refuse it
            byte[] quote = genuine.clone();
            System.arraycopy(Arrays.copyOf(rd, 64), 0, quote, at, 64);
            return Answer.ok(JSON.createObjectNode().putNull("cc_eventlog")
                    .put("quote", Base64.getEncoder().encodeToString(quote)).toString());
        })) {
            byte[] binding = filled(64, 0x31);
            Evidence e = AttestationAgentProvider.open(agent.url(), TeeType.TDX).attest(binding);

            assertThat(e.tee()).isEqualTo(TeeType.TDX);
            assertThat(TdxQuote.parse(e.report()).reportData()).isEqualTo(ReportDataBinding.textReportData(binding));
            assertThat(Arrays.copyOf(e.report(), at)).isEqualTo(Arrays.copyOf(genuine, at));
        }
    }

    @Test
    void aCertificateTableEntryThatIsNotACertificateIsLeftOutAndTheReportStillGoes() throws Exception {
        try (SimulatedAttestationAgent agent = tamperingAgent(json -> {
            ((ObjectNode) json.get("cert_chain").get(0)).putArray("data").add(0x30).add(0x03).add(1).add(2).add(3);
            return json;
        })) {
            Evidence e = AttestationAgentProvider.open(agent.url(), TeeType.SNP).attest(filled(64, 0x07));

            assertThat(e.certificates()).as("no usable VCEK: the key broker takes it from its collateral").isEmpty();
        }
    }

    /** An agent of the simulated SNP TEE whose answers {@code edit} changes on their way out. */
    private static SimulatedAttestationAgent tamperingAgent(UnaryOperator<ObjectNode> edit) {
        return SimulatedAttestationAgent.answering(runtimeData -> {
            Evidence e = TEE.attest(MEASUREMENT, Arrays.copyOf(runtimeData, 64));
            return Answer.ok(edit.apply(SevCrateJson.evidence(e.report(), Shape.CRATE_6, e.certificates())).toString());
        });
    }

    private static ObjectNode simulatedReport(Shape shape) {
        return SevCrateJson.report(TEE.attest(MEASUREMENT, filled(64, 0x09)).report(), shape);
    }

    private static List<byte[]> chain(String name) throws Exception {
        List<byte[]> certs = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(snpVector(name))))) {
            certs.add(c.getEncoded());
        }
        return certs;
    }

    private static Path snpVector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "snp", name);
        assumeTrue(Files.isRegularFile(p), "real SNP vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }

    private static byte[] tdxQuote() throws Exception {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "tdx", "quote-v4.dat");
        assumeTrue(Files.isRegularFile(p), "real TDX vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return Files.readAllBytes(p);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    private static byte[] filled(int n, int b) {
        byte[] a = new byte[n];
        Arrays.fill(a, (byte) b);
        return a;
    }
}
