package io.sealstream.cli.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.attestation.simulated.SevCrateJson;
import io.sealstream.cli.SealstreamCommand;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sealstream attestation verify} on the real vectors in ../shared. */
class VerifyCommandTest {

    @Test
    void theMilanReportPassesWithAmdsRoots(@TempDir Path certs) throws Exception {
        Files.copy(vector("snp/milan-vcek.der"), certs.resolve("vcek.der"));

        Result r = run("attestation", "verify", "--evidence", vector("snp/milan-vcek-report.bin").toString(),
                "--certs", certs.toString(), "--at", "2025-06-01T00:00:00Z");

        assertThat(r.exit).isZero();
        assertThat(r.out).contains("measurement      a1f3930413247bb3").contains("PASS").contains("result: pass");
    }

    @Test
    void aTurinReportAsAKataGuestsAttestationAgentAnswersItVerifiesWithTheAnswersCertificateTable(@TempDir Path dir)
            throws Exception {
        Path answer = dir.resolve("evidence.json");
        Files.writeString(answer, agentAnswer(UnaryOperator.identity()).toString());

        Result r = run("attestation", "verify", "--evidence", answer.toString(), "--at", "2026-01-15T00:00:00Z",
                "--format", "json");

        assertThat(r.exit).as(r.out).isZero();
        assertThat(r.out).contains("\"source\" : \"attestation agent answer\"").contains("\"tee\" : \"snp\"")
                .contains("\"result\" : \"pass\"");
    }

    @Test
    void anAgentAnswerWithAChangedMeasurementFailsWithoutAStackTrace(@TempDir Path dir) throws Exception {
        Path answer = dir.resolve("evidence.json");
        Files.writeString(answer, agentAnswer(report -> {
            ((ArrayNode) report.get("measurement")).set(0, 0x42);
            return report;
        }).toString());

        Result r = run("attestation", "verify", "--evidence", answer.toString(), "--at", "2026-01-15T00:00:00Z",
                "--format", "json");

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).contains("does not verify with the VCEK").contains("\"result\" : \"fail\"")
                .doesNotContain("Exception");
    }

    /** The real Turin report and its chain as the sev crate 6.x's JSON, the report edited by {@code edit}. */
    private static ObjectNode agentAnswer(UnaryOperator<ObjectNode> edit) throws Exception {
        List<byte[]> chain = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(vector("snp/yaxitech/vcek-chain-turin.pem"))))) {
            chain.add(c.getEncoded());
        }
        ObjectNode answer = SevCrateJson.evidence(Files.readAllBytes(vector("snp/yaxitech/report-turin-v5.bin")),
                SevCrateJson.Shape.CRATE_6_WITH_MITIGATION_VECTORS, chain);
        answer.set("attestation_report", edit.apply((ObjectNode) answer.get("attestation_report")));
        return answer;
    }

    @Test
    void theTdxQuoteFailsAStrictPolicyForItsDebugBitAndExitsNonZero(@TempDir Path dir) throws Exception {
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                version: 1
                name: strict
                models: ['%s']
                tee:
                  tdx:
                    mrtd: ['705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031']
                    mrconfigid: ['%s']
                    rtmr0: ['e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288']
                    rtmr1: ['559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdca3a596']
                    rtmr2: ['%s']
                """.formatted("ab".repeat(32), "00".repeat(48), "00".repeat(48)));

        Result r = run("attestation", "verify", "--evidence", vector("tdx/quote-v4.dat").toString(),
                "--policy", policy.toString(), "--at", "2025-06-01T00:00:00Z", "--format", "json");

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).contains("\"debug\" : true").contains("debug_enabled").contains("\"result\" : \"fail\"");
    }

    @Test
    void theDcapQvlQuoteIsUpToDateWithItsCollateral() {
        Result r = run("attestation", "verify", "--evidence", vector("tdx/dcap-qvl/tdx_quote").toString(),
                "--collateral", vector("tdx/dcap-qvl/tdx_quote_collateral.json").toString(),
                "--at", "2025-07-19T10:00:34Z");

        assertThat(r.exit).isZero();
        assertThat(r.out).contains("TCB status from collateral (FMSPC B0C06F000000)").contains("tcb_status       UpToDate")
                .contains("result: pass");
    }

    @Test
    void expiredCollateralFailsTheTcbCheckAndExitsNonZero() {
        Result r = run("attestation", "verify", "--evidence", vector("tdx/dcap-qvl/tdx_quote").toString(),
                "--collateral", vector("tdx/dcap-qvl/tdx_quote_collateral.json").toString(),
                "--at", "2025-08-01T00:00:00Z", "--format", "json");

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).contains("collateral_expired").contains("\"result\" : \"fail\"");
    }

    @Test
    void evidenceOfAnUnexpectedLengthIsMalformedAndJsonStaysJson(@TempDir Path dir) throws Exception {
        Path odd = dir.resolve("odd.bin");
        Files.write(odd, new byte[1000]);

        Result r = run("attestation", "verify", "--evidence", odd.toString(), "--format", "json");

        assertThat(r.exit).isEqualTo(1);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out);
        assertThat(json.path("result").asText()).isEqualTo("fail");
        assertThat(json.path("checks").get(0).path("code").asText()).isEqualTo("malformed_evidence");
        assertThat(json.path("checks").get(0).path("detail").asText()).contains("1000 bytes").doesNotContain("malformed_evidence");
    }

    @Test
    void aTruncatedTdxQuoteIsMalformedWithoutAStackTrace(@TempDir Path dir) throws Exception {
        byte[] header = new byte[700]; // a v4 TDX quote's header, then too little of its body
        header[0] = 4;
        header[4] = (byte) io.sealstream.attestation.tdx.TdxQuote.TEE_TYPE_TDX;
        Path cut = dir.resolve("cut.dat");
        Files.write(cut, header);

        Result r = run("attestation", "verify", "--evidence", cut.toString());

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.out).contains("malformed_evidence").contains("result: fail").doesNotContain("\tat io.sealstream");
    }

    @Test
    void aPolicyThatIsNotAPolicyIsAFailedCheckNotACrash(@TempDir Path dir) throws Exception {
        Path odd = dir.resolve("report.bin");
        Files.write(odd, new byte[io.sealstream.attestation.snp.SnpReport.LENGTH]);
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, "version: 2\n");

        Result r = run("attestation", "verify", "--evidence", odd.toString(), "--policy", policy.toString(),
                "--format", "json");

        assertThat(r.exit).isEqualTo(1);
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out);
        assertThat(json.path("result").asText()).isEqualTo("fail");
        assertThat(json.path("checks").get(0).path("code").asText()).isEqualTo("bad_policy");
        assertThat(json.path("checks").get(0).path("detail").asText()).contains("version");
    }

    @Test
    void anAzureTdxCaptureDirectoryVerifiesWithItsCollateralAndPassesAPolicyPinningItsPcrs(@TempDir Path dir) throws Exception {
        Path d = vector("azure/tdx/flashbots-2026-06-08/derived/td-quote.bin").getParent();
        Path policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                version: 1
                name: azure
                models: ['%s']
                tee:
                  azure-tdx:
                    mrtd: ['ff450b138c5ee6734a43dc35afb437abfa24ef743bc9e9484ef4af365fcd89a6c50913248ed7fcb92a7d42b1ba7da984']
                    pcrs:
                      4: ['ce2d8e909d4c5cfac5daf50cd23dbfc7a07066acb54c983ff9037e36bf8cb051']
                      7: ['0d2b7f74a6e7911095cc135e72a45c5a97d7e17be11c218763f0e896ba4f9f1f']
                      9: ['0626d8d430d70bc5eb4361424d87e73956cbaf07a6c0bd6f6cba1aa24f706311']
                """.formatted("ab".repeat(32)));

        // a directory of the parts as a guest saves them is Azure evidence
        Result r = run("attestation", "verify", "--evidence", d.toString(), "--collateral",
                d.resolve("collateral.json").toString(), "--policy", policy.toString(), "--at", "2026-06-08T12:42:41Z");

        assertThat(r.exit).as(r.out).isZero();
        assertThat(r.out).startsWith("azure-tdx evidence").contains("pcr4             ce2d8e90")
                .contains("PASS           TCB status from collateral").contains("PASS           policy azure")
                .contains("result: pass");
    }

    private static Result run(String... args) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            exit = new CommandLine(new SealstreamCommand()).execute(args);
        } finally {
            System.setOut(original);
        }
        return new Result(exit, captured.toString(StandardCharsets.UTF_8));
    }

    private record Result(int exit, String out) {
    }

    private static Path vector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", name);
        assumeTrue(Files.isRegularFile(p), "real vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }
}
