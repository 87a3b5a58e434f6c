package io.sealstream.attestation.nvidia;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.policy.PolicyException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What a policy's {@code gpu:} section demands, judged on a real H100's verified report (driver 580.159.03, VBIOS 96.00.74.00.20). */
class GpuPolicyTest {
    private static GpuClaims hopper;

    @BeforeAll
    static void verifyTheCapture() throws Exception {
        Path d = GpuVectorTest.nvidia().resolve("attestation-sdk/hopper-580.159.03");
        hopper = GpuVerifier.withNvidiaRoot().verify(GpuVectorTest.hexReport(d.resolve("hopperAttestationReport.txt"),
                d.resolve("hopperCertChain.txt")), HexFormat.of().parseHex(
                        "5bb22e377702d4e1e8215a903ba094826b9ac7f731dee1fe8102958bf2840aca"), Instant.parse("2026-12-02T00:00:00Z"));
    }

    @Test
    void aGpuOfAnAllowedArchitectureAtTheMinimumVersionsPasses() throws Exception {
        policy("{architectures: [HOPPER], min-driver: '550.54.14', min-vbios: '96.00.5E.00.01'}").checkGpus(List.of(hopper));
    }

    @Test
    void aWorkerWithoutGpuEvidenceIsRefusedWhenThePolicyRequiresGpus() {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> policy("{}").checkGpus(List.of()));

        assertThat(e.failure()).isEqualTo(AttestationFailure.GPU_NOT_ATTESTED);
    }

    @Test
    void withoutAGpuSectionGpuEvidenceIsNeitherNeededNorJudged() throws Exception {
        AttestationPolicy.parse(base("")).checkGpus(List.of());
    }

    @Test
    void aDriverBelowTheMinimumIsRefused() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("{min-driver: '580.159.10'}").checkGpus(List.of(hopper)));

        assertThat(e.failure()).isEqualTo(AttestationFailure.GPU_NOT_ALLOWED);
        assertThat(e.getMessage()).contains("580.159.03").contains("580.159.10");
    }

    @Test
    void vbiosVersionsCompareAsHexadecimal() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("{min-vbios: '96.00.A5.00.01'}").checkGpus(List.of(hopper)));

        assertThat(e.failure()).isEqualTo(AttestationFailure.GPU_NOT_ALLOWED);
        assertThat(e.getMessage()).contains("96.00.74.00.20");
    }

    @Test
    void aGpuOfAnotherArchitectureIsRefused() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("{architectures: [BLACKWELL]}").checkGpus(List.of(hopper)));

        assertThat(e.failure()).isEqualTo(AttestationFailure.GPU_NOT_ALLOWED);
    }

    @Test
    void gpuRulesArePartOfTheIdAndSurviveTheCanonicalForm() {
        AttestationPolicy with = policy("{architectures: [hopper], min-vbios: '96.00.5e.00.01'}");

        assertThat(with.id()).isNotEqualTo(AttestationPolicy.parse(base("")).id());
        assertThat(with.canonicalJson()).contains("\"gpu\":{\"architectures\":[\"HOPPER\"],\"min-vbios\":\"96.00.5E.00.01\","
                + "\"required\":true}");
        assertThat(AttestationPolicy.parse(with.toYaml()).id()).isEqualTo(with.id());
    }

    @Test
    void anUnreadableVersionIsRefusedAtParse() {
        assertThatThrownBy(() -> policy("{min-driver: 'latest'}")).isInstanceOf(PolicyException.class)
                .hasMessageContaining("gpu.min-driver");
    }

    @Test
    void anUnquotedDriverVersionIsRefusedRatherThanReadAsANumber() {
        // YAML reads 550.100 as the number 550.1, a lower minimum than the operator wrote
        assertThatThrownBy(() -> policy("{min-driver: 550.100}")).isInstanceOf(PolicyException.class)
                .hasMessageContaining("gpu.min-driver").hasMessageContaining("quote");
    }

    private static AttestationPolicy policy(String gpu) {
        return AttestationPolicy.parse(base("gpu: " + gpu + "\n"));
    }

    private static String base(String extra) {
        return "version: 1\nallow-simulated: true\nmodels: ['" + "ab".repeat(32) + "']\n" + extra
                + "tee:\n  snp:\n    measurements: ['" + "cd".repeat(48) + "']\n";
    }
}
