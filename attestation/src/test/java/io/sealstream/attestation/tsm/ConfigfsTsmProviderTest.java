package io.sealstream.attestation.tsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.coco.AttestationAgentProvider;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * configfs-tsm against a fake tree that plays the kernel: the entry's {@code provider},
 * {@code generation}, {@code outblob} and {@code auxblob} are there before the provider writes
 * {@code inblob}, as the kernel would have them after the write.
 */
class ConfigfsTsmProviderTest {
    private static final byte[] MEASUREMENT = filled(48, 0x3C);
    private static final byte[] REPORT_DATA = filled(64, 0x2D);

    @TempDir
    Path root;

    @Test
    void anSnpGuestsReportAndCertificateTableBecomeVerifiableEvidence() throws Exception {
        SimulatedSnpTee tee = SimulatedSnpTee.shared();
        Evidence kernelAnswer = tee.attest(MEASUREMENT, REPORT_DATA);
        List<byte[]> chain = kernelAnswer.certificates();
        fakeEntry("probe", "sev_guest", 0, new byte[0], null);
        fakeEntry("e1", "sev_guest", 1, kernelAnswer.report(),
                ConfigfsTsmProvider.snpCertificateTable(chain.get(0), chain.get(1), chain.get(2)));
        EvidenceProvider provider = ConfigfsTsmProvider.open(root, names("probe", "e1"));

        Evidence evidence = provider.attest(REPORT_DATA);

        assertThat(provider.tee()).isEqualTo(TeeType.SNP);
        assertThat(evidence.certificates()).hasSize(3);
        AttestedClaims claims = SnpVerifier.trustingDevelopmentRoot(List.of(), tee.developmentRoot())
                .verify(evidence, Instant.now());
        assertThat(claims.reportData()).isEqualTo(REPORT_DATA);
        assertThat(Files.exists(root.resolve("e1"))).as("entry removed").isFalse();
    }

    @Test
    void aTdxGuestIsRecognisedByItsProvider() throws Exception {
        fakeEntry("probe", "tdx_guest", 0, new byte[0], null);

        assertThat(ConfigfsTsmProvider.open(root, names("probe")).tee()).isEqualTo(TeeType.TDX);
    }

    @Test
    void autoNeverFallsBackToTheSimulatedTee() {
        Path absent = root.resolve("no-configfs-here");

        assertThatThrownBy(() -> TeeSelection.select("auto", absent, AttestationAgentProvider.DEFAULT_URL, () -> {
            throw new AssertionError("simulated chosen silently");
        })).isInstanceOf(AttestationException.class).hasMessageContaining("does not exist")
                .hasMessageContaining("configfs-tsm");
    }

    @Test
    void askingForTdxOnAnSnpGuestFails() throws Exception {
        fakeEntry("probe", "sev_guest", 0, new byte[0], null);

        assertThatThrownBy(() -> TeeSelection.select("tdx", () -> ConfigfsTsmProvider.open(root, names("probe")), () -> null))
                .hasMessageContaining("--tee=tdx").hasMessageContaining("snp");
    }

    @Test
    void aCertificateTablePointingOutsideTheBlobIsMalformed() {
        byte[] table = ConfigfsTsmProvider.snpCertificateTable(new byte[10], new byte[10], new byte[10]);
        table[16] = 0x7F; // offset of the first entry far past the end

        assertThatThrownBy(() -> ConfigfsTsmProvider.snpCertificates(table)).hasMessageContaining("outside the auxblob");
    }

    private void fakeEntry(String name, String provider, long generation, byte[] outblob, byte[] auxblob) throws Exception {
        Path e = Files.createDirectories(root.resolve(name));
        Files.writeString(e.resolve("provider"), provider + "\n");
        Files.writeString(e.resolve("generation"), Long.toString(generation));
        Files.write(e.resolve("outblob"), outblob);
        if (auxblob != null) {
            Files.write(e.resolve("auxblob"), auxblob);
        }
    }

    private static java.util.function.Supplier<String> names(String... names) {
        java.util.Iterator<String> it = Arrays.asList(names).iterator();
        return it::next;
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
