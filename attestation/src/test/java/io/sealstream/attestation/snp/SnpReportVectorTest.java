package io.sealstream.attestation.snp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The parser on a report captured on a real Milan machine (../shared/vectors, PROVENANCE.md).
 * Skipped, with the missing path named, where ../shared is absent.
 */
class SnpReportVectorTest {
    private static Path vector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", name);
        assumeTrue(Files.isRegularFile(p), "real SNP vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }

    @Test
    void theMilanReportParsesToTheClaimsItsProvenanceStates() throws Exception {
        SnpReport r = SnpReport.parse(Files.readAllBytes(vector("snp/milan-vcek-report.bin")));

        assertThat(r.version()).isEqualTo(2);
        assertThat(r.signatureAlgorithm()).isEqualTo(1);
        assertThat(r.signingKey()).isZero();
        assertThat(r.policy()).isEqualTo(0x3001fL);
        assertThat(r.debugAllowed()).isFalse();
        assertThat(HexFormat.of().formatHex(r.measurement())).isEqualTo(
                "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050d3d38c");
        assertThat(r.reportedTcb().toString()).isEqualTo("0300000000000873");
        assertThat(r.reportedTcb().components(false)).containsEntry("bootloader", 3).containsEntry("snp", 8)
                .containsEntry("microcode", 0x73);
    }
}
