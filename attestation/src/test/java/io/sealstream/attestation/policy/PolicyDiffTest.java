package io.sealstream.attestation.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PolicyDiffTest {
    private static final String M1 = "a1".repeat(48);
    private static final String M2 = "b2".repeat(48);
    private static final String BASE = """
            version: 1
            name: prod
            allow-simulated: true
            max-evidence-age: 5m
            models: ['%s']
            tee:
              snp:
                measurements: ['%s']
            """;

    @Test
    void aRevokedMeasurementAnAdmittedOneAndAChangedSettingAreEachNamed() {
        AttestationPolicy before = AttestationPolicy.parse(BASE.formatted("cd".repeat(32), M1));
        AttestationPolicy after = AttestationPolicy.parse(BASE.formatted("cd".repeat(32), M2).replace("5m", "10m"));

        assertThat(PolicyDiff.between(before, after)).extracting(Object::toString).containsExactly(
                "- tee.snp.measurements: " + M1,
                "+ tee.snp.measurements: " + M2,
                "~ max-evidence-age: 300s -> 600s");
    }

    @Test
    void theSamePolicyWrittenDifferentlyHasNoChanges() {
        AttestationPolicy before = AttestationPolicy.parse(BASE.formatted("cd".repeat(32), M1));
        AttestationPolicy after = AttestationPolicy.parse(before.toYaml());

        assertThat(PolicyDiff.between(before, after)).isEmpty();
    }

    @Test
    void aWholeNewSectionShowsAsAddedValues() {
        AttestationPolicy before = AttestationPolicy.parse(BASE.formatted("cd".repeat(32), M1));
        AttestationPolicy after = AttestationPolicy.parse(BASE.formatted("cd".repeat(32), M1)
                + "  tdx:\n    mrtd: ['" + M2 + "']\n");

        assertThat(PolicyDiff.between(before, after)).extracting(Object::toString)
                .contains("+ tee.tdx.mrtd: " + M2, "+ tee.tdx.accepted-tcb-status: UpToDate");
    }
}
