package io.sealstream.attestation.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.policy.PolicyException;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a policy demands of Azure evidence: its own section ({@code tee.azure-tdx}), and the
 * workload's vTPM PCRs, since the launch measurement is the paravisor's. Claims from the real
 * June 2026 TDX capture.
 */
class AzurePolicyTest {
    private static final Instant AT = Instant.parse("2026-06-08T12:42:41Z");
    private static final String MRTD =
            "ff450b138c5ee6734a43dc35afb437abfa24ef743bc9e9484ef4af365fcd89a6c50913248ed7fcb92a7d42b1ba7da984";
    private static final String PCR4 = "ce2d8e909d4c5cfac5daf50cd23dbfc7a07066acb54c983ff9037e36bf8cb051";
    /** The boot chain's PCRs of the capture besides PCR 4: 7 (Secure Boot) and 9 (kernel and initrd). */
    private static final String BOOT = "7: ['0d2b7f74a6e7911095cc135e72a45c5a97d7e17be11c218763f0e896ba4f9f1f'], "
            + "9: ['0626d8d430d70bc5eb4361424d87e73956cbaf07a6c0bd6f6cba1aa24f706311']";
    private static final String MODEL = "ab".repeat(32);
    private static final String ZERO48 = "00".repeat(48);
    private static final byte[] BINDING = new byte[64]; // the capture's user-data
    private static AttestedClaims claims;

    @BeforeAll
    static void verifyTheCapture() throws Exception {
        claims = AzureVectorTest.tdxVerifier("flashbots-2026-06-08")
                .verify(AzureVectorTest.tdxEvidence("flashbots-2026-06-08", false), AT);
    }

    @Test
    void azureTdxEvidenceWhosePinnedPcrsMatchIsAccepted() throws Exception {
        policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + "}}", "")
                .check(claims, BINDING, hex(MODEL), AT);
    }

    @Test
    void azureEvidenceIsRefusedByAPolicyWithOnlyBareTdxRules() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("tdx", "{mrtd: ['" + MRTD + "'], mrconfigid: ['" + ZERO48 + "'], rtmr0: ['" + ZERO48
                        + "'], rtmr1: ['" + ZERO48 + "'], rtmr2: ['" + ZERO48 + "']}", "").check(claims, BINDING, hex(MODEL), AT));

        assertThat(e.failure()).isEqualTo(AttestationFailure.TEE_NOT_ALLOWED);
        assertThat(e.getMessage()).contains("tee.azure-tdx");
    }

    @Test
    void aPinnedPcrWithAnotherValueIsAnUnknownMeasurement() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + "00".repeat(32) + "'], " + BOOT + "}}", "")
                        .check(claims, BINDING, hex(MODEL), AT));

        assertThat(e.failure()).isEqualTo(AttestationFailure.UNKNOWN_MEASUREMENT);
        assertThat(e.getMessage()).contains("PCR 4").contains("tee.azure-tdx.pcrs.4");
    }

    @Test
    void aKeyBrokerOnAzureWithNoPinnedPcrsIsRefused() {
        AttestationPolicy p = policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + "}}",
                "key-broker: {measurements: ['" + MRTD + "']}\n");

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> p.checkKeyBroker(claims, BINDING, Optional.of(AT)));

        assertThat(e.failure()).isEqualTo(AttestationFailure.UNKNOWN_MEASUREMENT);
        assertThat(e.getMessage()).contains("key-broker.pcrs");
    }

    @Test
    void aKeyBrokerOnAzureIsIdentifiedByItsOwnPcrs() throws Exception {
        policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + "11".repeat(32) + "'], " + BOOT + "}}",
                "key-broker: {measurements: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + "}}\n")
                .checkKeyBroker(claims, BINDING, Optional.of(AT));
    }

    @Test
    void anAzureSectionWithoutPcrsIsRefusedAtParse() {
        assertThatThrownBy(() -> policy("azure-snp", "{measurements: ['" + "aa".repeat(48) + "']}", ""))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.azure-snp.pcrs");
    }

    @Test
    void aPcrThatSoftwareInTheGuestCanResetIsRefusedAtParse() {
        assertThatThrownBy(() -> policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {16: ['" + PCR4 + "']}}", ""))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.azure-tdx.pcrs.16").hasMessageContaining("reset");
    }

    @Test
    void aStrictAzurePolicyMustPinTheBootChainNotOnePcr() {
        assertThatThrownBy(() -> policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "']}}", ""))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.azure-tdx.pcrs.7");
    }

    @Test
    void aVmWhoseConfigurationDiffersFromThePolicysIsRefused() {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> policy("azure-tdx", "{mrtd: ['"
                + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + "}, vm-configuration: {console-enabled: false}}", "")
                .check(claims, BINDING, hex(MODEL), AT));

        assertThat(e.failure()).isEqualTo(AttestationFailure.VM_CONFIGURATION_NOT_ALLOWED);
        assertThat(e.getMessage()).contains("console-enabled");
    }

    @Test
    void aVmWhoseConfigurationMatchesIsAccepted() throws Exception {
        policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT
                + "}, vm-configuration: {secure-boot: true}}", "").check(claims, BINDING, hex(MODEL), AT);
    }

    @Test
    void pcrsAreNotAcceptedInBareSections() {
        assertThatThrownBy(() -> policy("tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + "}}", ""))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.tdx.pcrs");
    }

    @Test
    void theCanonicalFormListsPcrsByIndexInByteOrder() {
        AttestationPolicy p = policy("azure-tdx", "{mrtd: ['" + MRTD + "'], pcrs: {4: ['" + PCR4 + "'], " + BOOT + ", 11: ['"
                + "00".repeat(32) + "']}}", "");

        assertThat(p.canonicalJson()).contains("\"azure-tdx\":{").contains("\"pcrs\":{\"11\":[\"" + "00".repeat(32)
                + "\"],\"4\":[\"" + PCR4 + "\"],\"7\":[");
        assertThat(AttestationPolicy.parse(p.toYaml()).id()).isEqualTo(p.id());
    }

    private static AttestationPolicy policy(String section, String rules, String extra) {
        return AttestationPolicy.parse("version: 1\nname: azure\nmodels: ['" + MODEL + "']\n" + extra
                + "tee:\n  " + section + ": " + rules + "\n");
    }

    private static byte[] hex(String h) {
        return java.util.HexFormat.of().parseHex(h);
    }
}
