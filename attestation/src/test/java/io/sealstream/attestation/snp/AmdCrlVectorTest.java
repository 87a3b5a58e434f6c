package io.sealstream.attestation.snp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.RevocationLists;
import io.sealstream.attestation.TeeType;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.cert.X509CRL;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AMD KDS CRLs signed by the ARKs (../shared/vectors/amd-roots, PROVENANCE-more.md §1.0). */
class AmdCrlVectorTest {
    private static final Instant IN_MILAN_CRL_WINDOW = Instant.parse("2025-06-01T00:00:00Z");

    @Test
    void theMilanReportVerifiesWithMilansCurrentCrl() throws Exception {
        SnpVerifier verifier = SnpVerifier.withAmdRoots().withRevocationLists(RevocationLists.of(List.of(crl("milan"))));

        AttestedClaims c = verifier.verify(milanEvidence(), IN_MILAN_CRL_WINDOW);

        assertThat(c.simulated()).isFalse();
    }

    @Test
    void aCrlPastItsNextUpdateIsRefusedRatherThanTrusted() throws Exception {
        SnpVerifier verifier = SnpVerifier.withAmdRoots().withRevocationLists(RevocationLists.of(List.of(crl("milan"))));

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> verifier.verify(milanEvidence(), Instant.parse("2026-11-24T00:00:00Z")));

        assertThat(e.failure()).isEqualTo(AttestationFailure.COLLATERAL_EXPIRED);
        assertThat(e.getMessage()).contains("ARK-Milan");
    }

    @Test
    void theGenoaCrlRevokesTheOlderAskButNotTheCurrentOne() throws Exception {
        X509CRL genoa = crl("genoa");
        AmdRoots.Chain chain = AmdRoots.get().chain("Genoa").orElseThrow();

        assertThat(genoa.getRevokedCertificate(BigInteger.valueOf(0x20001))).isNotNull();
        assertThat(chain.ask().getSerialNumber()).isEqualTo(BigInteger.valueOf(0x20002));
        // no exception: signed by ARK-Genoa, inside its window, and the ASK is not listed
        RevocationLists.of(List.of(genoa)).check(chain.ask(), chain.ark(), Instant.parse("2025-01-01T00:00:00Z"));
    }

    private static Evidence milanEvidence() throws Exception {
        return new Evidence(TeeType.SNP, Files.readAllBytes(vector("snp/milan-vcek-report.bin")),
                List.of(Files.readAllBytes(vector("snp/milan-vcek.der"))));
    }

    private static X509CRL crl(String product) throws Exception {
        return RevocationLists.parse(Files.readAllBytes(vector("amd-roots/crl_" + product + ".openpcc.pem")));
    }

    private static Path vector(String name) {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", name);
        assumeTrue(Files.isRegularFile(p), "real SNP vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return p;
    }
}
