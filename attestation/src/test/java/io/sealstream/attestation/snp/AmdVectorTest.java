package io.sealstream.attestation.snp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sealstream.attestation.Certificates;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Evidence captured on real AMD machines (../shared/vectors, see its PROVENANCE files) against
 * AMD's pinned roots. Skipped, naming the missing path, where ../shared is absent.
 */
class AmdVectorTest {
    private static final Instant IN_VCEK_VALIDITY = Instant.parse("2025-06-01T00:00:00Z");
    private final SnpVerifier amd = SnpVerifier.withAmdRoots();

    @Test
    void theShippedArksArePinnedToAmdsFingerprints() {
        assertThat(AmdRoots.get().arks()).extracting(Certificates::fingerprint)
                .containsExactlyInAnyOrderElementsOf(AmdRoots.ARK_FINGERPRINTS.values());
    }

    @Test
    void theMilanReportVerifiesThroughVcekAskArk() throws Exception {
        AttestedClaims claims = amd.verify(evidence("snp/milan-vcek-report.bin", "snp/milan-vcek.der"), IN_VCEK_VALIDITY);

        assertThat(claims.simulated()).isFalse();
        assertThat(claims.measurementHex()).isEqualTo(
                "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c");
        assertThat(claims.debug()).isFalse();
        assertThat(claims.tcb()).containsEntry("bootloader", 3).containsEntry("snp", 8).containsEntry("microcode", 115);
    }

    @Test
    void theVirteeAndGoSevGuestMilanReportsVerify() throws Exception {
        assertThat(amd.verify(evidence("snp/virtee-sev/report_milan.bin", "snp/virtee-sev/vcek_milan.der"),
                IN_VCEK_VALIDITY).simulated()).isFalse();
        assertThat(amd.verify(evidence("snp/go-sev-guest/attestation.bin", "snp/go-sev-guest/vcek.der"),
                Instant.parse("2022-09-24T01:00:00Z")).reportData()).startsWith(1, 2, 3, 4, 5);
    }

    @Test
    void changingByte42OfTheReportBreaksTheSignature() throws Exception {
        Evidence e = evidence("snp/milan-vcek-report.bin", "snp/milan-vcek.der");
        byte[] report = e.report();
        report[42] ^= 0x01;

        assertFailure(new Evidence(TeeType.SNP, report, e.certificates()), AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void changingByte384OfTheReportBreaksTheTcbMatch() throws Exception {
        Evidence e = evidence("snp/milan-vcek-report.bin", "snp/milan-vcek.der");
        byte[] report = e.report();
        report[384] ^= 0x01;

        assertFailure(new Evidence(TeeType.SNP, report, e.certificates()), AttestationFailure.TCB_MISMATCH);
    }

    @Test
    void changingByte42OfTheVcekBreaksTheChain() throws Exception {
        Evidence e = evidence("snp/milan-vcek-report.bin", "snp/milan-vcek.der");
        byte[] vcek = e.certificates().get(0);
        vcek[42] ^= 0x01;

        AttestationException failure = catchThrowableOfType(AttestationException.class,
                () -> amd.verify(new Evidence(TeeType.SNP, e.report(), List.of(vcek)), IN_VCEK_VALIDITY));
        assertThat(failure.failure()).isIn(AttestationFailure.BAD_CERTIFICATE_CHAIN, AttestationFailure.UNKNOWN_ROOT);
    }

    @Test
    void editedVcekCertificatesParseButFailTheChain() throws Exception {
        for (String name : List.of("snp/vcek-other-legacy-encoding.der", "snp/vcek-other-new-encoding.der")) {
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(vector(name))));
            VcekExtensions ext = VcekExtensions.of(cert);
            assertThat(ext.tcb()).as(name).containsKeys("bootloader", "tee", "snp", "microcode");
            assertThat(ext.hwid()).as(name).hasValueSatisfying(h -> assertThat(h).hasSize(64));

            Evidence e = evidence("snp/milan-vcek-report.bin", name);
            assertFailure(e, AttestationFailure.BAD_CERTIFICATE_CHAIN);
        }
    }

    @Test
    void aChainEndingInAnotherRootIsUnknown() throws Exception {
        Evidence e = evidence("snp/milan-vcek-report.bin", "snp/milan-vcek.der");
        X509Certificate genoaArk = AmdRoots.get().arks().stream()
                .filter(a -> a.getSubjectX500Principal().getName().contains("ARK-Genoa")).findFirst().orElseThrow();
        List<byte[]> chain = List.of(e.certificates().get(0), AmdRoots.get().issuerOf(cert(e.certificates().get(0)))
                .orElseThrow().ask().getEncoded(), genoaArk.getEncoded());

        assertThat(catchThrowableOfType(AttestationException.class, () ->
                SnpVerifier.trusting(List.of(genoaArk)).verify(new Evidence(TeeType.SNP, e.report(), chain),
                        IN_VCEK_VALIDITY)).failure()).isEqualTo(AttestationFailure.BAD_CERTIFICATE_CHAIN);
        assertThat(catchThrowableOfType(AttestationException.class, () ->
                SnpVerifier.trusting(List.of()).verify(e, IN_VCEK_VALIDITY)).failure())
                .isEqualTo(AttestationFailure.UNKNOWN_ROOT);
    }

    private void assertFailure(Evidence e, AttestationFailure expected) {
        AttestationException failure = catchThrowableOfType(AttestationException.class, () -> amd.verify(e, IN_VCEK_VALIDITY));
        assertThat(failure).as("expected %s", expected).isNotNull();
        assertThat(failure.failure()).isEqualTo(expected);
    }

    private static Evidence evidence(String report, String vcek) throws Exception {
        return new Evidence(TeeType.SNP, Files.readAllBytes(vector(report)), List.of(Files.readAllBytes(vector(vcek))));
    }

    private static X509Certificate cert(byte[] der) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
    }

    private static Path vector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", name);
        assumeTrue(Files.isRegularFile(p), "real SNP vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }

}
