package io.sealstream.attestation.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxVerifier;
import io.sealstream.attestation.tsm.TeeSelection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Azure evidence provider against a simulated vTPM and paravisor, spoken to in TPM 2.0 command
 * bytes; its evidence is checked by the same verifier as the real Azure captures.
 */
class AzureVtpmProviderTest {
    private SimulatedAzureVtpm vtpm;
    private AzureVerifier verifier;

    @BeforeEach
    void start() throws Exception {
        vtpm = new SimulatedAzureVtpm();
        verifier = AzureVerifier.of(SnpVerifier.trustingDevelopmentRoot(List.of(), vtpm.tee.developmentRoot()),
                TdxVerifier.withIntelRoot());
    }

    @Test
    void evidenceFromTheVtpmVerifiesWithTheBindingAsItsReportData() throws Exception {
        byte[] binding = filled(64, 0x5A);
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);

        Evidence e = provider.attest(binding);
        AttestedClaims claims = verifier.verify(e, Instant.now());

        assertThat(provider.tee()).isEqualTo(TeeType.AZURE_SNP);
        assertThat(e.tee()).isEqualTo(TeeType.AZURE_SNP);
        assertThat(claims.reportData()).isEqualTo(binding);
        assertThat(claims.measurement()).isEqualTo(vtpm.measurement);
        assertThat(claims.extraMeasurements().get("pcr3")).isEqualTo(vtpm.pcr(3));
        assertThat(claims.extraMeasurements()).containsKeys("pcr0", "pcr23");
        assertThat(claims.properties()).containsEntry("vm_secure_boot", 1L).containsEntry("vm_console_enabled", 0L);
    }

    @Test
    void theUserDataIndexIsDefinedWhenTheVmHasNone() throws Exception {
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);

        provider.attest(filled(64, 1));

        assertThat(vtpm.defined(AzureVtpmProvider.USER_DATA_INDEX)).isTrue();
    }

    @Test
    void aPcrExtendedBetweenTheReadAndTheQuoteIsReadAndQuotedAgain() throws Exception {
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);
        vtpm.extendAfterReads = 2; // the third PCR read call (PCR 16..23 of the first round) sees PCR 10 extended

        AttestedClaims claims = verifier.verify(provider.attest(filled(64, 2)), Instant.now());

        assertThat(vtpm.quotes).isEqualTo(2);
        assertThat(claims.extraMeasurements().get("pcr10")).isEqualTo(vtpm.pcr(10));
    }

    @Test
    void aParavisorThatDoesNotRegenerateTheReportIsRefusedNotPassedOff() throws Exception {
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);
        vtpm.paravisorRegenerates = false;

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> provider.attest(filled(64, 3)));

        assertThat(e.getMessage()).contains("does not carry it");
    }

    @Test
    void evidenceMadeForOneBindingDoesNotVerifyAsAnother() throws Exception {
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);
        AzureEvidence first = AzureEvidence.parse(provider.attest(filled(64, 4)));
        AzureEvidence second = AzureEvidence.parse(provider.attest(filled(64, 5)));
        // the first HCL report (binding 4) with the second quote (over binding 5)
        Evidence spliced = new AzureEvidence(first.hclReport(), first.tdQuote(), second.tpmQuote(), second.tpmSignature(),
                second.pcrs(), List.of()).toEvidence(vtpm.vcekChain());

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> verifier.verify(spliced, Instant.now()));

        assertThat(e.failure()).isEqualTo(AttestationFailure.VTPM_MISMATCH);
    }

    @Test
    void aTpmWithoutAnHclReportIsNotAnAzureVm() throws Exception {
        TpmDevice bare = new TpmDevice() {
            @Override
            public byte[] execute(byte[] command) {
                return ByteBuffer.allocate(10).putShort((short) 0x8001).putInt(10).putInt(0x18B).array();
            }

            @Override
            public void close() {
            }
        };

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> AzureVtpmProvider.open(bare, vtpm));

        assertThat(e.getMessage()).contains("not an Azure confidential VM");
    }

    @Test
    void aTruncatedTpmResponseIsAnErrorNotACrash() throws Exception {
        AzureVtpmProvider provider = AzureVtpmProvider.open(vtpm, vtpm);
        TpmDevice truncating = new TpmDevice() {
            @Override
            public byte[] execute(byte[] command) {
                byte[] full = vtpm.execute(command);
                return ByteBuffer.wrap(full).getInt(6) == 0 && full.length > 14 ? fixSize(Arrays.copyOf(full, 13)) : full;
            }

            @Override
            public void close() {
            }
        };

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> AzureVtpmProvider.open(truncating, vtpm).attest(filled(64, 6)));

        assertThat(provider.tee()).isEqualTo(TeeType.AZURE_SNP);
        assertThat(e.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
        assertThat(e.getMessage()).contains("TPM");
    }

    @Test
    void autoUsesTheVtpmWhereConfigfsTsmIsAbsent() throws Exception {
        EvidenceProvider p = TeeSelection.select("auto", () -> {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "configfs-tsm does not exist");
        }, () -> AzureVtpmProvider.open(vtpm, vtpm), () -> {
            throw new AssertionError("simulated chosen silently");
        });

        assertThat(p.tee()).isEqualTo(TeeType.AZURE_SNP);
    }

    @Test
    void autoWithNeitherConfigfsTsmNorAnAzureVtpmSaysWhyForBoth() {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> TeeSelection.select("auto", () -> {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "configfs-tsm does not exist");
        }, () -> {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "there is no TPM at /dev/tpmrm0");
        }, () -> {
            throw new AssertionError("simulated chosen silently");
        }));

        assertThat(e.getMessage()).contains("configfs-tsm does not exist").contains("no TPM at /dev/tpmrm0");
    }

    @Test
    void theAttestationKeyCertificateIsReadWithoutItsNvPadding() throws Exception {
        byte[] der = new byte[4 + 300];
        der[0] = 0x30;
        der[1] = (byte) 0x82;
        der[2] = 0x01;
        der[3] = 0x2C; // 300 bytes of content
        byte[] padded = Arrays.copyOf(der, 4096);

        assertThat(AzureVtpmProvider.derPrefix(padded)).hasSize(304);
    }

    @Test
    void anAttestationKeyCertificateIndexWithoutDerIsAnError() {
        IOException e = catchThrowableOfType(IOException.class, () -> AzureVtpmProvider.derPrefix(new byte[64]));

        assertThat(e.getMessage()).contains("DER");
    }

    private static byte[] fixSize(byte[] response) {
        ByteBuffer.wrap(response).putInt(2, response.length);
        return response;
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
