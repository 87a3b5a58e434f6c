package io.sealstream.attestation.nvidia;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * NVIDIA GPU attestation reports captured on real H100 and B200 GPUs (../shared/vectors/nvidia,
 * PROVENANCE.md there): which verify, and what refuses the others.
 */
class GpuVectorTest {
    private static final Instant NOW = Instant.parse("2026-12-02T00:00:00Z");
    private final GpuVerifier verifier = GpuVerifier.withNvidiaRoot();

    @Test
    void aHopperReportVerifiesToNvidiasRootWithItsNonceAndNamesItsVersions() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");

        GpuClaims c = verifier.verify(hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt")),
                hex("5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca"), NOW);

        assertThat(c.architecture()).isEqualTo("HOPPER");
        assertThat(c.hardwareModel()).isEqualTo("GH100 A01 GSP BROM");
        assertThat(c.driverVersion()).contains("580.159.03");
        assertThat(c.vbiosVersion()).contains("96.00.74.00.20");
        assertThat(c.measurements()).hasSize(64);
        assertThat(HexFormat.of().formatHex(c.measurements().get(2))).startsWith("b558fdac9af53b91");
    }

    @Test
    void theLeafCertificateCertifiesTheFirmwareIdTheReportCarries() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");
        GpuEvidence e = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));
        java.security.cert.X509Certificate leaf = (java.security.cert.X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(e.certificates().get(0)));

        assertThat(GpuVerifier.certifiedFwid(leaf)).isPresent().isEqualTo(GpuReport.parse(e.report()).fwid());
    }

    @Test
    void aBlackwellReportVerifies() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/blackwell-575.32");

        GpuClaims c = verifier.verify(hexReport(d.resolve("blackwellAttestationReport.txt"), d.resolve("blackwellCertChain.txt")),
                hex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"), NOW);

        assertThat(c.architecture()).isEqualTo("BLACKWELL");
        assertThat(c.hardwareModel()).isEqualTo("GB100 A01 GSP BROM");
        assertThat(c.driverVersion()).contains("575.32");
        assertThat(c.vbiosVersion()).contains("97.00.88.00.0F");
    }

    @Test
    void everyGpuOfTheEightGpuSystemVerifiesWithTheSharedNonce() throws Exception {
        JsonNode all = new ObjectMapper().readTree(Files.readString(nvidia().resolve("nvtrust-ppcie-8xh100/gpu_evidence.json")));
        List<String> drivers = new ArrayList<>();

        for (JsonNode gpu : all) {
            GpuClaims c = verifier.verify(jsonReport(gpu), hex(gpu.get("nonce").asText()), NOW);
            drivers.add(c.driverVersion().orElseThrow() + " " + c.vbiosVersion().orElseThrow());
        }

        assertThat(drivers).hasSize(8).containsOnly("590.12 96.00.A5.00.01");
    }

    @Test
    void theOlderReportLayoutWithoutFwidVerifies() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-535.86.09");

        GpuClaims c = verifier.verify(hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt")),
                hex("27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66"), NOW);

        assertThat(c.vbiosVersion()).contains("96.00.5E.00.01");
    }

    @Test
    void aReportForAnotherNonceIsStale() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-535.86.09");
        GpuEvidence e = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> verifier.verify(e, new byte[32], NOW));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.STALE_NONCE);
    }

    @Test
    void theInvalidSignatureSampleIsRefused() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-invalid-signature");
        GpuEvidence e = hexReport(d.resolve("hopperAttestationReportInvalidSignature.txt"), d.resolve("hopperCertChainExpired.txt"));

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> verifier.verify(e,
                hex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"), NOW));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void aChangedNonceByteBreaksTheSignature() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");
        GpuEvidence genuine = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));
        byte[] report = genuine.report();
        report[10] ^= 1; // inside the request nonce
        GpuEvidence changed = new GpuEvidence(report, genuine.certificates());

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> verifier.verify(changed, java.util.Arrays.copyOfRange(report, 4, 36), NOW));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void aChainWithoutTheBromCertificateIsRefused() throws Exception {
        Path d = nvidia().resolve("go-nvtrust");

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> verifier.verify(
                hexReport(d.resolve("attestationReport.txt"), d.resolve("invalidCertChain.txt")),
                hex("4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e"), NOW));

        assertThat(ex.failure()).isIn(AttestationFailure.BAD_CERTIFICATE_CHAIN, AttestationFailure.UNKNOWN_ROOT);
    }

    @Test
    void aChainEndingInAnotherRootIsRefused() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");
        GpuEvidence genuine = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));
        List<byte[]> shortened = genuine.certificates().subList(0, 4); // ends in "NVIDIA GH100 Identity", not the root

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> verifier.verify(
                new GpuEvidence(genuine.report(), shortened),
                hex("5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca"), NOW));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.UNKNOWN_ROOT);
    }

    @Test
    void aChainLongerThanAnyGpusIsRefusedBeforeItIsParsed() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");
        GpuEvidence genuine = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));
        List<byte[]> padded = new ArrayList<>(genuine.certificates());
        padded.add(new byte[] {1, 2, 3});
        padded.add(new byte[] {4, 5, 6});

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> verifier.verify(
                new GpuEvidence(genuine.report(), padded), new byte[32], NOW));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.BAD_CERTIFICATE_CHAIN);
        assertThat(ex.getMessage()).contains("got 7");
    }

    @Test
    void aTruncatedReportIsMalformed() throws Exception {
        Path d = nvidia().resolve("attestation-sdk/hopper-580.159.03");
        GpuEvidence genuine = hexReport(d.resolve("hopperAttestationReport.txt"), d.resolve("hopperCertChain.txt"));

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> GpuReport.parse(java.util.Arrays.copyOf(genuine.report(), 2000)));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
    }

    // --- helpers ---

    static Path nvidia() {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "nvidia");
        assumeTrue(Files.isDirectory(p), "NVIDIA vectors missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }

    static GpuEvidence hexReport(Path report, Path chain) throws Exception {
        return new GpuEvidence(hex(Files.readString(report).trim()), pem(Files.readString(chain)));
    }

    static GpuEvidence jsonReport(JsonNode gpu) throws Exception {
        return new GpuEvidence(Base64.getDecoder().decode(gpu.get("evidence").asText()),
                pem(new String(Base64.getDecoder().decode(gpu.get("certificate").asText()), StandardCharsets.US_ASCII)));
    }

    private static List<byte[]> pem(String text) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (Certificate c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)))) {
            out.add(c.getEncoded());
        }
        return out;
    }

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.startsWith("0x") ? h.substring(2) : h);
    }
}
