package io.sealstream.attestation.snp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The simulated TEE's real-format evidence through the real SNP verifier. */
class SimulatedSnpEvidenceTest {
    private static final byte[] MEASUREMENT = filled(48, 0x5A);
    private static final byte[] REPORT_DATA = filled(64, 0x11);
    private final SimulatedSnpTee tee = SimulatedSnpTee.shared();
    private final SnpVerifier devVerifier = SnpVerifier.trustingDevelopmentRoot(List.of(), tee.developmentRoot());

    @Test
    void evidenceVerifiesAsSimulatedWhenTheDevelopmentRootIsTrustedExplicitly() throws Exception {
        AttestedClaims claims = devVerifier.verify(tee.attest(MEASUREMENT, REPORT_DATA), Instant.now());

        assertThat(claims.tee()).isEqualTo(TeeType.SNP);
        assertThat(claims.simulated()).isTrue();
        assertThat(claims.measurement()).isEqualTo(MEASUREMENT);
        assertThat(claims.reportData()).isEqualTo(REPORT_DATA);
        assertThat(claims.debug()).isFalse();
        assertThat(claims.tcb()).containsEntry("bootloader", 3).containsEntry("snp", 8).containsEntry("microcode", 115);
    }

    @Test
    void aVerifierThatTrustsOnlyVendorRootsRefusesItAsAnUnknownRoot() {
        assertFailure(SnpVerifier.trusting(List.of()), tee.attest(MEASUREMENT, REPORT_DATA), AttestationFailure.UNKNOWN_ROOT);
    }

    @Test
    void anyChangedByteOfTheSignedReportBreaksTheSignature() {
        Evidence good = tee.attest(MEASUREMENT, REPORT_DATA);
        for (int offset : new int[] {0x008, 0x050, 0x090, 0x0C0, 0x29F}) {
            byte[] report = good.report();
            report[offset] ^= 0x01;
            assertFailure(devVerifier, new Evidence(TeeType.SNP, report, good.certificates()), AttestationFailure.BAD_SIGNATURE);
        }
    }

    @Test
    void aReportedTcbOtherThanTheVcekCertifiesIsATcbMismatch() {
        Evidence lying = tee.attest(SimulatedSnpTee.report().tcb(TcbVersion.milan(3, 0, 9, 115))
                .measurement(MEASUREMENT).reportData(REPORT_DATA));

        assertFailure(devVerifier, lying, AttestationFailure.TCB_MISMATCH);
    }

    @Test
    void aVcekFromAnotherChainIsABadCertificateChain() {
        Evidence good = tee.attest(MEASUREMENT, REPORT_DATA);
        List<byte[]> other = SimulatedSnpTee.generate().certificateChain();
        Evidence spliced = new Evidence(TeeType.SNP, good.report(), List.of(other.get(0), good.certificates().get(1),
                good.certificates().get(2)));

        assertFailure(devVerifier, spliced, AttestationFailure.BAD_CERTIFICATE_CHAIN);
    }

    @Test
    void truncatedAndOversizedReportsAreMalformedWithAClearMessage() {
        Evidence good = tee.attest(MEASUREMENT, REPORT_DATA);
        for (int length : new int[] {0, 1000, 2000}) {
            AttestationException e = catchThrowableOfType(AttestationException.class, () -> devVerifier.verify(
                    new Evidence(TeeType.SNP, Arrays.copyOf(good.report(), length), good.certificates()), Instant.now()));
            assertThat(e.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
            assertThat(e).hasMessageContaining("1184 bytes").hasMessageContaining("has " + length);
        }
    }

    @Test
    void debugAndMigrationBitsAreReportedAsClaims() throws Exception {
        AttestedClaims claims = devVerifier.verify(tee.attest(SimulatedSnpTee.report().debug(true).migrationAgent(true)
                .measurement(MEASUREMENT).reportData(REPORT_DATA)), Instant.now());

        assertThat(claims.debug()).isTrue();
        assertThat(claims.migrationAgent()).isTrue();
    }

    @Test
    void aSavedSimulatedTeeLoadsInAnotherProcessWithTheSameRoot(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        tee.save(dir);
        SimulatedSnpTee loaded = SimulatedSnpTee.load(dir);

        assertThat(devVerifier.verify(loaded.attest(MEASUREMENT, REPORT_DATA), Instant.now()).simulated()).isTrue();
        assertThat(Files.getPosixFilePermissions(dir.resolve("vcek.pk8"))).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    }

    private static void assertFailure(SnpVerifier verifier, Evidence evidence, AttestationFailure failure) {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> verifier.verify(evidence, Instant.now()));
        assertThat(e).as("expected %s", failure).isNotNull();
        assertThat(e.failure()).isEqualTo(failure);
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
