package io.sealstream.attestation.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Azure confidential-VM evidence captured on real Azure hardware (../shared/vectors/azure,
 * PROVENANCE.md there): which captures verify end to end, and which part refuses the others.
 */
class AzureVectorTest {
    /** Inside the flashbots-2026-06-08 collateral window (the source's own test time). */
    private static final Instant TDX_2026_06 = Instant.parse("2026-06-08T12:42:41Z");
    /** Inside the flashbots-2025-12-02 collateral window (the source's test time at its commit 79a0b65). */
    private static final Instant TDX_2026_02 = Instant.parse("2026-02-18T14:04:40Z");
    /** Inside the cmcp VCEK's validity. */
    private static final Instant SNP_AT = Instant.parse("2026-07-21T00:00:00Z");

    // --- TDX: the complete chains ---

    @Test
    void theJune2026TdxCaptureVerifiesEndToEndWithItsAttestationKeyChain() throws Exception {
        AzureVerifier.Result r = tdxVerifier("flashbots-2026-06-08").withAttestationKeyRoots(List.of(vtpmRoot()), List.of())
                .verifyDetailed(tdxEvidence("flashbots-2026-06-08", true), TDX_2026_06);

        AttestedClaims c = r.claims();
        assertThat(c.tee()).isEqualTo(TeeType.AZURE_TDX);
        assertThat(c.measurementHex()).startsWith("ff450b13").endsWith("7da984");
        assertThat(c.tcbStatus()).contains("UpToDate");
        assertThat(c.debug()).isFalse();
        assertThat(c.reportData()).isEqualTo(new byte[64]);
        assertThat(c.extraMeasurements()).containsKeys("pcr0", "pcr23", "rtmr0", "mrconfigid");
        assertThat(c.properties()).containsEntry("vm_secure_boot", 1L);
        assertThat(r.pcrs()).hasSize(24);
    }

    @Test
    void theDecember2025TdxCaptureVerifiesWithTheGlobalVirtualTpmIntermediateAndShowsItsMeasuredPcrs() throws Exception {
        AzureVerifier.Result r = tdxVerifier("flashbots-2025-12-02")
                .withAttestationKeyRoots(List.of(vtpmRoot()), List.of(pem(azure().resolve("azure-vtpm-roots/global-virtual-tpm-ca-03.pem"))))
                .verifyDetailed(tdxEvidence("flashbots-2025-12-02", true), TDX_2026_02);

        assertThat(hex(r.claims().extraMeasurements().get("pcr4"))).startsWith("c4a25a6d").endsWith("588699");
        assertThat(hex(r.claims().extraMeasurements().get("pcr9"))).startsWith("9f4a5775").endsWith("f1541d");
        assertThat(hex(r.claims().extraMeasurements().get("pcr11"))).startsWith("abd7c695").endsWith("a121bf");
    }

    @Test
    void theDecember2025TdxCaptureIsRefusedTodayBecauseItsCollateralExpired() throws Exception {
        Evidence e = tdxEvidence("flashbots-2025-12-02", false);

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> tdxVerifier("flashbots-2025-12-02").verify(e, Instant.parse("2026-12-02T00:00:00Z")));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.COLLATERAL_EXPIRED);
    }

    @Test
    void withoutConfiguredVtpmRootsTheAttestationKeyIsTrustedThroughTheBoundClaimsAlone() throws Exception {
        AttestedClaims c = tdxVerifier("flashbots-2026-06-08").verify(tdxEvidence("flashbots-2026-06-08", false), TDX_2026_06);

        assertThat(c.tee()).isEqualTo(TeeType.AZURE_TDX);
    }

    @Test
    void withConfiguredVtpmRootsEvidenceWithoutTheAttestationKeyCertificateIsRefused() throws Exception {
        AzureVerifier v = tdxVerifier("flashbots-2026-06-08").withAttestationKeyRoots(List.of(vtpmRoot()), List.of());
        Evidence e = tdxEvidence("flashbots-2026-06-08", false);

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> v.verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.BAD_CERTIFICATE_CHAIN);
        assertThat(ex.getMessage()).contains("0x01C101D0");
    }

    @Test
    void anAttestationKeyCertificateOfAnotherVmIsRefused() throws Exception {
        AzureEvidence parts = AzureEvidence.parse(tdxEvidence("flashbots-2026-06-08", true));
        List<byte[]> otherVm = List.of(Files.readAllBytes(tdx("flashbots-2025-12-02").resolve("derived/ak-cert.der")));
        Evidence e = new AzureEvidence(parts.hclReport(), parts.tdQuote(), parts.tpmQuote(), parts.tpmSignature(),
                parts.pcrs(), otherVm).toEvidence(List.of());
        AzureVerifier v = tdxVerifier("flashbots-2026-06-08").withAttestationKeyRoots(List.of(vtpmRoot()), List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> v.verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.VTPM_MISMATCH);
    }

    @Test
    void aPcrValueOtherThanTheQuotedOneIsRefused() throws Exception {
        AzureEvidence parts = AzureEvidence.parse(tdxEvidence("flashbots-2026-06-08", false));
        SortedMap<Integer, byte[]> pcrs = new TreeMap<>(parts.pcrs());
        pcrs.put(4, new byte[32]);
        Evidence e = new AzureEvidence(parts.hclReport(), parts.tdQuote(), parts.tpmQuote(), parts.tpmSignature(), pcrs,
                List.of()).toEvidence(List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> tdxVerifier("flashbots-2026-06-08").verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.VTPM_MISMATCH);
    }

    @Test
    void changedRuntimeClaimsAreNotBoundByTheHardwareReport() throws Exception {
        AzureEvidence parts = AzureEvidence.parse(tdxEvidence("flashbots-2026-06-08", false));
        byte[] hcl = parts.hclReport();
        int uniqueId = indexOf(hcl, "vmUniqueId\":\"") + 14;
        hcl[uniqueId] = (byte) (hcl[uniqueId] == 'a' ? 'b' : 'a'); // another VM's id, same length
        Evidence e = new AzureEvidence(hcl, parts.tdQuote(), parts.tpmQuote(), parts.tpmSignature(), parts.pcrs(),
                List.of()).toEvidence(List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> tdxVerifier("flashbots-2026-06-08").verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.RUNTIME_CLAIMS_UNBOUND);
    }

    @Test
    void aTdQuoteNotMadeFromTheHclReportsTdReportIsRefused() throws Exception {
        AzureEvidence parts = AzureEvidence.parse(tdxEvidence("flashbots-2026-06-08", false));
        byte[] hcl = parts.hclReport();
        hcl[HclReport.HARDWARE_REPORT_OFFSET + 720] ^= 1; // rtmr0 of the (unsigned) TDREPORT
        Evidence e = new AzureEvidence(hcl, parts.tdQuote(), parts.tpmQuote(), parts.tpmSignature(), parts.pcrs(),
                List.of()).toEvidence(List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> tdxVerifier("flashbots-2026-06-08").verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.RUNTIME_CLAIMS_UNBOUND);
        assertThat(ex.getMessage()).contains("rtmr0");
    }

    @Test
    void snpEvidenceHoldingATdxHclReportIsMalformed() throws Exception {
        AzureEvidence parts = AzureEvidence.parse(tdxEvidence("flashbots-2026-06-08", false));
        Evidence e = new AzureEvidence(parts.hclReport(), Optional.empty(), parts.tpmQuote(), parts.tpmSignature(),
                parts.pcrs(), List.of()).toEvidence(List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> tdxVerifier("flashbots-2026-06-08").verify(e, TDX_2026_06));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
    }

    // --- SNP ---

    @Test
    void theCmcpSnpCaptureVerifiesPartByPart() throws Exception {
        Path dir = snp("cmcp-dcasv5-milan");
        byte[] report = Files.readAllBytes(dir.resolve("derived/snp-report.bin"));
        byte[] claims = Files.readAllBytes(dir.resolve("derived/runtime-claims.json"));
        AttestedClaims hw = SnpVerifier.withAmdRoots().verify(new Evidence(TeeType.SNP, report,
                List.of(pem(dir.resolve("derived/vcek.pem")).getEncoded())), SNP_AT);
        HclReport hcl = HclReport.parse(HclReports.assemble(true, report, claims));
        hcl.checkClaimsBound();
        RuntimeClaims runtime = RuntimeClaims.parse(hcl.runtimeClaims());
        TpmQuote quote = TpmQuote.parse(Files.readAllBytes(dir.resolve("derived/tpm-quote.msg")));
        quote.verifySignature(runtime.attestationKey(), Files.readAllBytes(dir.resolve("derived/tpm-quote.tpmt-signature.bin")));

        assertThat(hw.measurementHex()).startsWith("5b0ce64a");
        assertThat(runtime.attestationKey().getModulus()).isEqualTo(rsa(dir.resolve("derived/ak-pub.pem")).getModulus());
        assertThat(quote.qualifyingData()).isEqualTo(io.sealstream.attestation.ReportDataBinding.sha256(
                HexFormat.of().parseHex(Files.readString(dir.resolve("cmcp_nonce.hex")).trim())));
        assertThat(quote.selectedPcrs()).containsExactly(16);
    }

    @Test
    void theCmcpSnpCaptureIsRefusedWholeBecauseItsQuoteDoesNotCarryItsUserData() throws Exception {
        Path dir = snp("cmcp-dcasv5-milan");
        byte[] report = Files.readAllBytes(dir.resolve("derived/snp-report.bin"));
        byte[] claims = Files.readAllBytes(dir.resolve("derived/runtime-claims.json"));
        Evidence e = new AzureEvidence(HclReports.assemble(true, report, claims), Optional.empty(),
                Files.readAllBytes(dir.resolve("derived/tpm-quote.msg")),
                Files.readAllBytes(dir.resolve("derived/tpm-quote.tpmt-signature.bin")), new TreeMap<>(Map.of(16, new byte[32])),
                List.of()).toEvidence(List.of(pem(dir.resolve("derived/vcek.pem")).getEncoded()));

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> AzureVerifier.of(SnpVerifier.withAmdRoots(), TdxVerifier.withIntelRoot()).verify(e, SNP_AT));

        // cmcp quotes SHA-256 of its own nonce, not the user-data the hardware binds: the PCRs are not tied to this report
        assertThat(ex.failure()).isEqualTo(AttestationFailure.VTPM_MISMATCH);
        assertThat(ex.getMessage()).contains("user-data");
    }

    @Test
    void theConstellationSnpCaptureBindsItsClaimsAndTruncatedClaimsDoNot() throws Exception {
        Path dir = snp("constellation-milan");
        byte[] report = Arrays.copyOf(Files.readAllBytes(dir.resolve("attestation.bin")), HclReport.HARDWARE_REPORT_LENGTH);
        byte[] claims = Files.readAllBytes(dir.resolve("runtimedata.bin"));
        AttestedClaims hw = SnpVerifier.withAmdRoots().verify(new Evidence(TeeType.SNP, report,
                List.of(pem(dir.resolve("vcek.pem")).getEncoded())), Instant.parse("2026-12-02T00:00:00Z"));
        HclReport.parse(HclReports.assemble(true, report, claims)).checkClaimsBound();

        HclReport truncated = HclReport.parse(HclReports.assemble(true, report, Arrays.copyOf(claims, claims.length - 5)));
        AttestationException ex = catchThrowableOfType(AttestationException.class, truncated::checkClaimsBound);

        assertThat(hw.properties()).containsEntry("vmpl", 0L);
        assertThat(ex.failure()).isEqualTo(AttestationFailure.RUNTIME_CLAIMS_UNBOUND);
    }

    @Test
    void theKinvolkSnpReportIsRefusedWithItsVcekOfAnotherChip() throws Exception {
        Path dir = snp("kinvolk");
        byte[] hcl = Files.readAllBytes(dir.resolve("hcl-report-snp.bin"));
        List<byte[]> certs = new ArrayList<>();
        for (X509Certificate c : pems(dir.resolve("certs.pem"))) {
            certs.add(c.getEncoded());
        }
        SortedMap<Integer, byte[]> pcrs = pcrs(dir.resolve("derived/tpm-pcrs-sha256.bin"));
        Evidence e = new AzureEvidence(hcl, Optional.empty(), Files.readAllBytes(dir.resolve("derived/tpm-quote.msg")),
                Files.readAllBytes(dir.resolve("derived/tpm-quote.sig")), pcrs, List.of()).toEvidence(certs);

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> AzureVerifier.of(SnpVerifier.withAmdRoots(), TdxVerifier.withIntelRoot())
                        .verify(e, Instant.parse("2026-12-02T00:00:00Z")));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.TCB_MISMATCH);
    }

    @Test
    void theKinvolkQuoteVerifiesWithItsOwnKeyButNotWithTheAttestationKeyOfTheHclReportBesideIt() throws Exception {
        Path dir = snp("kinvolk");
        HclReport hcl = HclReport.parse(Files.readAllBytes(dir.resolve("hcl-report-snp.bin")));
        hcl.checkClaimsBound();
        TpmQuote quote = TpmQuote.parse(Files.readAllBytes(dir.resolve("derived/tpm-quote.msg")));
        byte[] sig = Files.readAllBytes(dir.resolve("derived/tpm-quote.sig"));
        quote.verifySignature(rsa(dir.resolve("akpub.pem")), sig);
        quote.checkPcrs(pcrs(dir.resolve("derived/tpm-pcrs-sha256.bin")));

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> quote.verifySignature(RuntimeClaims.parse(hcl.runtimeClaims()).attestationKey(), sig));

        assertThat(quote.qualifyingData()).isEqualTo("challenge".getBytes());
        assertThat(ex.failure()).isEqualTo(AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void theMicrosoftClientLibraryReportParsesButItsClaimsAreNotBound() throws Exception {
        HclReport hcl = HclReport.parse(Files.readAllBytes(snp("msft-clientlib").resolve("hcl_report.bin")));

        AttestationException ex = catchThrowableOfType(AttestationException.class, hcl::checkClaimsBound);

        assertThat(hcl.snp()).isTrue();
        assertThat(hcl.runtimeClaims()).hasSize(583);
        assertThat(ex.failure()).isEqualTo(AttestationFailure.RUNTIME_CLAIMS_UNBOUND);
    }

    @Test
    void theRedactedAgentManifestReportBindsItsClaimsButItsZeroedChipIdCannotBeSigned() throws Exception {
        HclReport hcl = HclReport.parse(Files.readAllBytes(snp("agent-manifest-redacted").resolve("azure_hcl_report_redacted.bin")));
        hcl.checkClaimsBound();
        Evidence e = new Evidence(TeeType.SNP, hcl.hardwareReport(),
                List.of(pem(snp("cmcp-dcasv5-milan").resolve("derived/vcek.pem")).getEncoded()));

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> SnpVerifier.withAmdRoots().verify(e, SNP_AT));

        assertThat(hcl.headerVersion()).isEqualTo(1);
        assertThat(ex.failure()).isIn(AttestationFailure.BAD_SIGNATURE, AttestationFailure.TCB_MISMATCH);
    }

    // --- shapes ---

    @Test
    void anHclReportWhoseLengthsDisagreeIsMalformed() throws Exception {
        byte[] hcl = Files.readAllBytes(tdx("flashbots-2026-06-08").resolve("derived/hcl-report.bin"));
        ByteBuffer.wrap(hcl).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(0x08, 9000);

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> HclReport.parse(hcl));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
        assertThat(ex.getMessage()).contains("report_size 9000");
    }

    @Test
    void aTruncatedTpmQuoteIsMalformed() throws Exception {
        byte[] msg = Files.readAllBytes(tdx("flashbots-2026-06-08").resolve("derived/tpm-quote.msg"));

        AttestationException ex = catchThrowableOfType(AttestationException.class,
                () -> TpmQuote.parse(Arrays.copyOf(msg, msg.length - 3)));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
    }

    @Test
    void azureEvidenceThatIsNotTheDocumentedJsonIsMalformed() {
        for (String json : List.of("not json", "{\"version\":2}", "{\"version\":1,\"hcl_report\":\"AA==\",\"extra\":1}",
                "{\"version\":1,\"hcl_report\":\"%%%\",\"tpm_quote\":\"\",\"tpm_signature\":\"\",\"pcrs\":{}}")) {
            Evidence e = new Evidence(TeeType.AZURE_SNP, json.getBytes(), List.of());

            AttestationException ex = catchThrowableOfType(AttestationException.class, () -> AzureEvidence.parse(e));

            assertThat(ex).as(json).isNotNull();
            assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
        }
    }

    @Test
    void oversizedAzureEvidenceIsRefusedBeforeItIsRead() {
        Evidence e = new Evidence(TeeType.AZURE_TDX, new byte[AzureEvidence.MAX_LENGTH + 1], List.of());

        AttestationException ex = catchThrowableOfType(AttestationException.class, () -> AzureEvidence.parse(e));

        assertThat(ex.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
        assertThat(ex.getMessage()).contains("larger than");
    }

    // --- helpers ---

    static Path azure() {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "azure");
        assumeTrue(Files.isDirectory(p), "Azure vectors missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }

    private static Path tdx(String capture) {
        return azure().resolve("tdx").resolve(capture);
    }

    private static Path snp(String capture) {
        return azure().resolve("snp").resolve(capture);
    }

    static AzureVerifier tdxVerifier(String capture) throws Exception {
        TdxCollateral collateral = TdxCollateral.load(tdx(capture).resolve("derived/collateral.json"));
        return AzureVerifier.of(SnpVerifier.withAmdRoots(), TdxVerifier.withIntelRoot().withCollateral(List.of(collateral)));
    }

    /** A TDX capture as Sealstream evidence: HCL report, TD quote, vTPM quote and its 24 PCRs, with or without the AK chain. */
    static Evidence tdxEvidence(String capture, boolean withAkChain) throws Exception {
        AzureEvidence parts = AzureEvidence.fromParts(tdx(capture).resolve("derived"));
        return withAkChain ? parts.toEvidence(List.of()) : new AzureEvidence(parts.hclReport(), parts.tdQuote(),
                parts.tpmQuote(), parts.tpmSignature(), parts.pcrs(), List.of()).toEvidence(List.of());
    }

    private static SortedMap<Integer, byte[]> pcrs(Path file) throws Exception {
        byte[] all = Files.readAllBytes(file);
        SortedMap<Integer, byte[]> out = new TreeMap<>();
        for (int i = 0; i < all.length / 32; i++) {
            out.put(i, Arrays.copyOfRange(all, 32 * i, 32 * i + 32));
        }
        return out;
    }

    static X509Certificate vtpmRoot() throws Exception {
        return pem(azure().resolve("azure-vtpm-roots/azure-virtual-tpm-root-2023.pem"));
    }

    private static X509Certificate pem(Path file) throws Exception {
        return pems(file).get(0);
    }

    @SuppressWarnings("unchecked")
    private static List<X509Certificate> pems(Path file) throws Exception {
        return new ArrayList<>((java.util.Collection<X509Certificate>) CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file))));
    }

    private static RSAPublicKey rsa(Path pemFile) throws Exception {
        String b64 = Files.readString(pemFile).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static int indexOf(byte[] haystack, String needle) {
        byte[] n = needle.getBytes();
        outer:
        for (int i = 0; i <= haystack.length - n.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (haystack[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
