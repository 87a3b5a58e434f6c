package io.sealstream.attestation.snp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Version-5 reports from Genoa and Turin machines (../shared/vectors/snp/yaxitech, PROVENANCE-more.md §1.4). */
class AmdV5VectorTest {
    private static final Instant AT = Instant.parse("2026-01-15T00:00:00Z");
    private final SnpVerifier amd = SnpVerifier.withAmdRoots();

    @Test
    void theGenoaV5ReportVerifiesWithItsTcb() throws Exception {
        AttestedClaims c = amd.verify(evidence("report-genoa-v5.bin", "vcek-chain-genoa-v5.pem"), AT);

        assertThat(c.reportVersion()).isEqualTo(5);
        assertThat(c.tcb()).containsEntry("bootloader", 10).containsEntry("snp", 27).containsEntry("microcode", 88);
        assertThat(c.debug()).isFalse();
    }

    @Test
    void theTurinV5ReportVerifiesWithTurinsTcbLayoutAndShortChipId() throws Exception {
        AttestedClaims c = amd.verify(evidence("report-turin-v5.bin", "vcek-chain-turin.pem"), AT);

        assertThat(c.reportVersion()).isEqualTo(5);
        assertThat(c.tcb()).containsEntry("fmc", 0).containsEntry("bootloader", 1).containsEntry("tee", 0)
                .containsEntry("snp", 2).containsEntry("microcode", 71);
    }

    @Test
    void overwritingTheGenoaSignatureFails() throws Exception {
        Evidence e = evidence("report-genoa-v5.bin", "vcek-chain-genoa-v5.pem");
        byte[] report = e.report();
        Arrays.fill(report, 0x2A0, 0x2A0 + 512, (byte) 'W');

        AttestationException failure = catchThrowableOfType(AttestationException.class,
                () -> amd.verify(new Evidence(TeeType.SNP, report, e.certificates()), AT));
        assertThat(failure.failure()).isEqualTo(AttestationFailure.BAD_SIGNATURE);
    }

    private static Evidence evidence(String report, String chain) throws Exception {
        List<byte[]> certs = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(Files.readAllBytes(vector(chain))))) {
            certs.add(c.getEncoded());
        }
        return new Evidence(TeeType.SNP, Files.readAllBytes(vector(report)), certs);
    }

    private static Path vector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "snp", "yaxitech", name);
        assumeTrue(Files.isRegularFile(p), "real SNP vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }
}
