package io.sealstream.attestation.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.TeeType;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AttestationPolicyTest {
    private static final String M = "ab".repeat(48);
    private static final String MODEL = "cd".repeat(32);
    private static final byte[] RD = filled(64, 7);
    private static final String STRICT = """
            version: 1
            name: strict
            max-evidence-age: 5m
            models: [%s]
            tee:
              snp:
                measurements: [%s]
                host-data: ['%s']
                min-tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}
            """.formatted(MODEL, M, "00".repeat(32));

    @Test
    void theSameMeaningGivesTheSameIdWhateverTheFormatting() {
        String reordered = """
                tee:
                  snp:
                    min-tcb:
                      microcode: 115
                      snp: 8
                      tee: 0
                      bootloader: 3
                    host-data: ['%s']
                    measurements:
                      - %s
                    allow-debug: false
                models:
                  - %s
                version: 1
                name: strict
                max-evidence-age: 300s
                """.formatted("00".repeat(32), M.toUpperCase(), MODEL);

        assertThat(AttestationPolicy.parse(reordered).id()).isEqualTo(AttestationPolicy.parse(STRICT).id()).hasSize(64);
        assertThat(AttestationPolicy.parse(STRICT.replace("strict", "other")).id())
                .isNotEqualTo(AttestationPolicy.parse(STRICT).id());
    }

    @Test
    void theCanonicalYamlParsesBackToTheSamePolicy() {
        AttestationPolicy p = AttestationPolicy.parse(STRICT);

        assertThat(AttestationPolicy.parse(p.toYaml()).id()).isEqualTo(p.id());
        assertThat(p.allowsSimulated()).isFalse();
        assertThat(p.allowedModelDigests()).containsExactly(MODEL);
    }

    @Test
    void poolsSayWhichPoolServesEachModelAndArePartOfTheId() {
        AttestationPolicy pooled = AttestationPolicy.parse(STRICT + "pools:\n  chat: [stories260K]\n  default: [minilm]\n");

        assertThat(pooled.pools()).containsOnlyKeys("chat", "default");
        assertThat(pooled.poolServing("stories260K")).contains("chat");
        assertThat(pooled.poolServing("gpt-5")).isEmpty();
        assertThat(pooled.id()).isNotEqualTo(AttestationPolicy.parse(STRICT).id());
        assertThat(AttestationPolicy.parse(pooled.toYaml()).id()).isEqualTo(pooled.id());
        assertThat(AttestationPolicy.parse(STRICT).pools()).isEmpty();
    }

    @Test
    void aModelInTwoPoolsOrABadPoolNameIsRefused() {
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT + "pools:\n  a: [m]\n  b: [m]\n"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("pools.b").hasMessageContaining("also in pool 'a'");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT + "pools:\n  Chat.GPU: [m]\n"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("pool name");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT + "pools:\n  gpu-a: [m]\n"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("pool name");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT + "pools:\n  a: []\n"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("non-empty");
    }

    @Test
    void validationErrorsNameTheField() {
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace(M, "12ab")))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.snp.measurements[0]").hasMessageContaining("96 hex");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT + "    allow-debugging: true\n"))
                .hasMessageContaining("tee.snp.allow-debugging").hasMessageContaining("unknown field");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace("version: 1", "version: 2")))
                .hasMessageContaining("policy field version");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace("5m", "soon")))
                .hasMessageContaining("max-evidence-age");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace("snp: 8", "snp: 300")))
                .hasMessageContaining("tee.snp.min-tcb.snp");
        assertThatThrownBy(() -> AttestationPolicy.parse("version: 1\nmodels: [" + MODEL + "]\n"))
                .hasMessageContaining("policy field tee");
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace(MODEL, "1".repeat(64))))
                .hasMessageContaining("models[0]").hasMessageContaining("quote it");
    }

    @Test
    void genuineClaimsThatMatchArePassed() throws Exception {
        AttestationPolicy.parse(STRICT).check(claims(false, false, false, M, 8), RD, model(), Instant.now());
    }

    @Test
    void eachViolationIsRefusedForItsOwnReason() {
        AttestationPolicy strict = AttestationPolicy.parse(STRICT);

        assertDenied(strict, claims(true, false, false, M, 8), RD, model(), AttestationFailure.SIMULATED_NOT_ALLOWED);
        assertDenied(strict, claims(false, false, false, M, 8), filled(64, 8), model(), AttestationFailure.REPORT_DATA_MISMATCH);
        assertDenied(strict, claims(false, true, false, M, 8), RD, model(), AttestationFailure.DEBUG_ENABLED);
        assertDenied(strict, claims(false, false, true, M, 8), RD, model(), AttestationFailure.MIGRATION_AGENT_ENABLED);
        assertDenied(strict, claims(false, false, false, "ef".repeat(48), 8), RD, model(), AttestationFailure.UNKNOWN_MEASUREMENT);
        assertDenied(strict, claims(false, false, false, M, 7), RD, model(), AttestationFailure.TCB_TOO_LOW);
        assertDenied(strict, claims(false, false, false, M, 8), RD, filled(32, 1), AttestationFailure.MODEL_NOT_ALLOWED);
    }

    @Test
    void simulatedEvidenceIsAcceptedOnlyWhenThePolicySaysSo() throws Exception {
        AttestationPolicy dev = AttestationPolicy.parse(STRICT + "allow-simulated: true\n");

        dev.check(claims(true, false, false, M, 8), RD, model(), Instant.now());
        assertThat(dev.allowsSimulated()).isTrue();
    }

    @Test
    void theBrokersWorkloadIdentityIsItsOwnAndTheWorkersIsTheirs() throws Exception {
        String broker = "b7".repeat(48);
        AttestationPolicy p = AttestationPolicy.parse(STRICT.replace("00".repeat(32), "11".repeat(32))
                + "key-broker:\n  measurements: ['" + broker + "']\n  host-data: ['" + "22".repeat(32) + "']\n");
        AttestedClaims brokerClaims = withHostData(claims(false, false, false, broker, 8), "22".repeat(32));
        AttestedClaims workerClaims = withHostData(claims(false, false, false, M, 8), "11".repeat(32));

        p.checkKeyBroker(brokerClaims, RD, Optional.of(Instant.now()));
        p.check(workerClaims, RD, model(), Instant.now());
        AttestationException asBroker = catchThrowableOfType(AttestationException.class,
                () -> p.checkKeyBroker(withHostData(claims(false, false, false, broker, 8), "11".repeat(32)), RD,
                        Optional.of(Instant.now())));
        assertThat(asBroker.failure()).isEqualTo(AttestationFailure.UNKNOWN_MEASUREMENT);
        assertThat(asBroker.detail()).contains("key-broker.host-data");
        assertThat(catchThrowableOfType(AttestationException.class, () -> p.checkKeyBroker(
                withHostData(claims(false, false, false, broker, 7), "22".repeat(32)), RD, Optional.of(Instant.now())))
                .failure()).as("the platform's rules bind the broker too").isEqualTo(AttestationFailure.TCB_TOO_LOW);
    }

    @Test
    void theBrokersHostDataAndRtmrsArePartOfTheId() {
        String base = STRICT + "key-broker:\n  measurements: ['" + "b7".repeat(48) + "']\n";
        AttestationPolicy plain = AttestationPolicy.parse(base);
        AttestationPolicy bound = AttestationPolicy.parse(base + "  host-data: ['" + "22".repeat(32) + "']\n");
        AttestationPolicy tdx = AttestationPolicy.parse(base + "  rtmr2: ['" + "33".repeat(48) + "']\n");

        assertThat(java.util.Set.of(plain.id(), bound.id(), tdx.id())).hasSize(3);
        assertThat(AttestationPolicy.parse(bound.toYaml()).id()).isEqualTo(bound.id());
        assertThat(AttestationPolicy.parse(tdx.toYaml()).keyBroker().registers()).containsOnlyKeys("rtmr2");
    }

    @Test
    void theDocumentedTestVectorHasTheDocumentedCanonicalFormAndId() throws Exception {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("../docs/attestation.md"));
        String canonical = block(doc, "policy-id-vector:canonical");
        String id = block(doc, "policy-id-vector:id");

        AttestationPolicy p = AttestationPolicy.parse(block(doc, "policy-id-vector:yaml"));

        assertThat(p.canonicalJson()).isEqualTo(canonical);
        assertThat(p.id()).isEqualTo(id);
        assertThat(HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(canonical.getBytes(java.nio.charset.StandardCharsets.US_ASCII))))
                .as("the id is the SHA-256 of those bytes, nothing else").isEqualTo(id);
        assertThat(AttestationPolicy.parse(p.toYaml()).id()).as("the served form parses back to the id").isEqualTo(id);
    }

    @Test
    void aNameThatWouldNeedEscapingInTheCanonicalFormIsRefused() {
        for (String name : List.of("'say \"hi\"'", "'back\\slash'", "\"tab\\there\"")) {
            assertThat(catchThrowableOfType(PolicyException.class,
                    () -> AttestationPolicy.parse(STRICT.replace("name: strict", "name: " + name))))
                    .as(name).hasMessageContaining("name");
        }
    }

    /** The fenced block after {@code <!-- marker -->} in a page. */
    private static String block(String doc, String marker) {
        int at = doc.indexOf("<!-- " + marker + " -->");
        assertThat(at).as("docs/attestation.md has %s", marker).isNotNegative();
        int start = doc.indexOf('\n', doc.indexOf("```", at)) + 1;
        return doc.substring(start, doc.indexOf("```", start)).strip();
    }

    private static AttestedClaims withHostData(AttestedClaims c, String hostData) {
        return new AttestedClaims(c.tee(), c.simulated(), c.reportVersion(), c.measurement(),
                Map.of("host_data", HexFormat.of().parseHex(hostData)), c.reportData(), c.debug(), c.migrationAgent(),
                c.tcb(), c.tcbStatus(), c.signedAt(), c.properties());
    }

    private static AttestedClaims withProperty(AttestedClaims c, String name, long value) {
        Map<String, Long> p = new java.util.HashMap<>(c.properties());
        p.put(name, value);
        return new AttestedClaims(c.tee(), c.simulated(), c.reportVersion(), c.measurement(), c.extraMeasurements(),
                c.reportData(), c.debug(), c.migrationAgent(), c.tcb(), c.tcbStatus(), c.signedAt(), Map.copyOf(p));
    }

    @Test
    void aReportFromALessPrivilegedVmplIsRefusedUnlessThePolicyAllowsThatLevel() throws Exception {
        AttestedClaims vmpl2 = withProperty(claims(false, false, false, M, 8), "vmpl", 2);

        assertDenied(AttestationPolicy.parse(STRICT), vmpl2, RD, model(), AttestationFailure.VMPL_NOT_ALLOWED);
        AttestationPolicy.parse(STRICT.replace("    min-tcb:", "    max-vmpl: 2\n    min-tcb:"))
                .check(vmpl2, RD, model(), Instant.now());
    }

    @Test
    void aGuestThatAllowsSmtIsRefusedByAPolicyThatSaysAllowSmtFalse() throws Exception {
        AttestationPolicy noSmt = AttestationPolicy.parse(STRICT.replace("    min-tcb:", "    allow-smt: false\n    min-tcb:"));

        assertDenied(noSmt, claims(false, false, false, M, 8), RD, model(), AttestationFailure.SMT_NOT_ALLOWED);
        noSmt.check(withProperty(claims(false, false, false, M, 8), "smt_allowed", 0), RD, model(), Instant.now());
    }

    @Test
    void aTcbComponentThePolicyBoundsButTheEvidenceDoesNotReportIsNotMet() {
        AttestationPolicy turin = AttestationPolicy.parse(STRICT.replace("microcode: 115}", "microcode: 115, fmc: 1}"));

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> turin.check(claims(false, false, false, M, 8), RD, model(), Instant.now()));
        assertThat(e.failure()).isEqualTo(AttestationFailure.TCB_TOO_LOW);
        assertThat(e.detail()).contains("fmc");
    }

    @Test
    void tdxWorkloadIdentityPinsMrConfigIdMrOwnerAndMrOwnerConfig() throws Exception {
        String configId = "c1".repeat(48);
        AttestationPolicy p = AttestationPolicy.parse("""
                version: 1
                models: [%s]
                tee:
                  tdx:
                    mrtd: [%s]
                    mrconfigid: ['%s']
                    rtmr0: ['%s']
                    rtmr1: ['%s']
                    rtmr2: ['%s']
                    accepted-tcb-status: [UpToDate]
                """.formatted(MODEL, M, configId, "00".repeat(48), "00".repeat(48), "00".repeat(48)));
        AttestedClaims genuine = tdxClaims(Map.of("mrconfigid", HexFormat.of().parseHex(configId)));

        p.check(genuine, RD, model(), Instant.now());
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> p.check(tdxClaims(Map.of("mrconfigid", new byte[48])), RD, model(), Instant.now()));
        assertThat(e.failure()).isEqualTo(AttestationFailure.UNKNOWN_MEASUREMENT);
        assertThat(e.detail()).contains("tee.tdx.mrconfigid");
        assertThat(p.tdx().orElseThrow().registers()).containsOnlyKeys("mrconfigid", "rtmr0", "rtmr1", "rtmr2");
        assertThat(AttestationPolicy.parse(p.toYaml()).id()).isEqualTo(p.id());
    }

    @Test
    void newRulesAtTheirDefaultsLeaveAPolicysIdAsItWas() {
        AttestationPolicy before = AttestationPolicy.parse(STRICT);

        assertThat(AttestationPolicy.parse(STRICT.replace("    min-tcb:", "    max-vmpl: 0\n    allow-smt: true\n    min-tcb:")).id())
                .isEqualTo(before.id());
        assertThat(AttestationPolicy.parse(STRICT.replace("    min-tcb:", "    max-vmpl: 1\n    min-tcb:")).id())
                .isNotEqualTo(before.id());
    }

    /** TDX claims with zero RTMRs and {@code registers} besides. */
    @Test
    void aGuestPolicyDemandingLessThanTheMinimumFirmwareAbiIsRefused() throws Exception {
        AttestationPolicy p = AttestationPolicy.parse(STRICT.replace("    min-tcb:", "    min-abi: '1.55'\n    min-tcb:"));
        AttestedClaims abi151 = withProperty(withProperty(claims(false, false, false, M, 8), "abi_major", 1), "abi_minor", 51);
        AttestedClaims abi155 = withProperty(withProperty(claims(false, false, false, M, 8), "abi_major", 1), "abi_minor", 55);

        assertDenied(p, abi151, RD, model(), AttestationFailure.TCB_TOO_LOW);
        p.check(abi155, RD, model(), Instant.now());
        assertThat(p.canonicalJson()).contains("\"min-abi\":\"1.55\"");
        assertThat(AttestationPolicy.parse(p.toYaml()).id()).isEqualTo(p.id());
    }

    @Test
    void aTdThatDoesNotDisableSeptVeIsRefusedUnlessThePolicyAllowsIt() throws Exception {
        AttestedClaims open = withProperty(tdxClaims(Map.of("mrconfigid", new byte[48])), "td_attributes", 0L);

        assertDenied(AttestationPolicy.parse(tdxPolicy("")), open, RD, model(), AttestationFailure.TD_ATTRIBUTES_NOT_ALLOWED);
        AttestationPolicy.parse(tdxPolicy("    allow-sept-ve: true\n")).check(open, RD, model(), Instant.now());
    }

    @Test
    void aTdxModuleBelowThePolicysMinimumIsRefused() {
        AttestedClaims module15 = withTcb(tdxClaims(Map.of("mrconfigid", new byte[48])), Map.of("tee_tcb_svn_0", 5,
                "tee_tcb_svn_1", 1, "tee_tcb_svn_2", 0));

        assertDenied(AttestationPolicy.parse(tdxPolicy("    min-tcb: {tdx-module-major: 1, tdx-module-minor: 6}\n")), module15,
                RD, model(), AttestationFailure.TCB_TOO_LOW);
    }

    @Test
    void tdxRulesAtTheirDefaultsLeaveAPolicysIdAsItWas() {
        assertThat(AttestationPolicy.parse(tdxPolicy("    allow-sept-ve: false\n")).id())
                .isEqualTo(AttestationPolicy.parse(tdxPolicy("")).id());
        assertThat(AttestationPolicy.parse(tdxPolicy("    min-tcb: {seam-last-patch: 1}\n")).id())
                .isNotEqualTo(AttestationPolicy.parse(tdxPolicy("")).id());
    }

    /** A strict TDX policy for {@link #tdxClaims} (zero MRCONFIGID and RTMRs) with {@code extra} lines under tee.tdx. */
    private static String tdxPolicy(String extra) {
        return "version: 1\nmodels: [" + MODEL + "]\ntee:\n  tdx:\n    mrtd: [" + M + "]\n    mrconfigid: ['" + "00".repeat(48)
                + "']\n    rtmr0: ['" + "00".repeat(48) + "']\n    rtmr1: ['" + "00".repeat(48) + "']\n    rtmr2: ['"
                + "00".repeat(48) + "']\n" + extra;
    }

    private static AttestedClaims withTcb(AttestedClaims c, Map<String, Integer> tcb) {
        return new AttestedClaims(c.tee(), c.simulated(), c.reportVersion(), c.measurement(), c.extraMeasurements(),
                c.reportData(), c.debug(), c.migrationAgent(), tcb, c.tcbStatus(), c.signedAt(), c.properties());
    }

    @Test
    void aPolicyThatRefusesSimulatedEvidenceMustPinSnpHostData() {
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace("    host-data: ['" + "00".repeat(32) + "']\n", "")))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.snp.host-data").hasMessageContaining("init-data");
    }

    @Test
    void aPolicyThatRefusesSimulatedEvidenceMustSetAMinimumForEveryTcbComponent() {
        assertThatThrownBy(() -> AttestationPolicy.parse(STRICT.replace(", microcode: 115}", "}")))
                .isInstanceOf(PolicyException.class).hasMessageContaining("tee.snp.min-tcb.microcode");
    }

    @Test
    void aPolicyThatRefusesSimulatedEvidenceMustPinTdxMrConfigIdAndTheBootRtmrs() {
        String tdx = "version: 1\nmodels: [" + MODEL + "]\ntee:\n  tdx:\n    mrtd: [" + M + "]\n    mrconfigid: ['"
                + "c1".repeat(48) + "']\n    rtmr0: ['" + "00".repeat(48) + "']\n";

        assertThatThrownBy(() -> AttestationPolicy.parse(tdx)).isInstanceOf(PolicyException.class)
                .hasMessageContaining("tee.tdx.rtmr1");
    }

    @Test
    void aDevelopmentPolicyNeedsNoWorkloadIdentityOrTcbMinimum() {
        AttestationPolicy dev = AttestationPolicy.parse("version: 1\nallow-simulated: true\nmodels: [" + MODEL
                + "]\ntee:\n  snp:\n    measurements: [" + M + "]\n  tdx:\n    mrtd: [" + M + "]\n");

        assertThat(dev.snp().orElseThrow().hostData()).isEmpty();
    }

    @Test
    void underAStrictPolicyAKeyBrokerOnSnpWithoutPinnedHostDataIsRefused() {
        AttestationPolicy p = AttestationPolicy.parse(STRICT + "key-broker:\n  measurements: ['" + "b7".repeat(48) + "']\n");

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> p.checkKeyBroker(
                claims(false, false, false, "b7".repeat(48), 8), RD, Optional.of(Instant.now())));

        assertThat(e.failure()).isEqualTo(AttestationFailure.UNKNOWN_MEASUREMENT);
        assertThat(e.detail()).contains("key-broker.host-data");
    }

    /** TDX claims with zero RTMRs and {@code registers} besides. */
    private static AttestedClaims tdxClaims(Map<String, byte[]> registers) {
        Map<String, byte[]> all = new java.util.HashMap<>(Map.of("rtmr0", new byte[48], "rtmr1", new byte[48], "rtmr2",
                new byte[48], "rtmr3", new byte[48]));
        all.putAll(registers);
        return new AttestedClaims(TeeType.TDX, false, 4, HexFormat.of().parseHex(M), Map.copyOf(all), RD, false, false, Map.of(),
                Optional.of("UpToDate"), Optional.empty(), Map.of("td_attributes", 1L << 28)); // SEPT_VE_DISABLE
    }

    @Test
    void aTdxQuoteIsRefusedByAPolicyWithoutTdxRules() {
        AttestedClaims tdx = new AttestedClaims(TeeType.TDX, false, 4, HexFormat.of().parseHex(M), Map.of(), RD, false,
                false, Map.of(), Optional.empty(), Optional.empty(), Map.of());

        assertDenied(AttestationPolicy.parse(STRICT), tdx, RD, model(), AttestationFailure.TEE_NOT_ALLOWED);
    }

    private static void assertDenied(AttestationPolicy p, AttestedClaims c, byte[] rd, byte[] model, AttestationFailure f) {
        AttestationException e = catchThrowableOfType(AttestationException.class, () -> p.check(c, rd, model, Instant.now()));
        assertThat(e).as("expected %s", f).isNotNull();
        assertThat(e.failure()).isEqualTo(f);
    }

    private static AttestedClaims claims(boolean simulated, boolean debug, boolean migration, String measurement, int snpSvn) {
        return new AttestedClaims(TeeType.SNP, simulated, 2, HexFormat.of().parseHex(measurement),
                Map.of("host_data", new byte[32]), RD, debug, migration,
                Map.of("bootloader", 3, "tee", 0, "snp", snpSvn, "microcode", 115), Optional.empty(), Optional.empty(),
                Map.of("vmpl", 0L, "smt_allowed", 1L));
    }

    private static byte[] model() {
        return HexFormat.of().parseHex(MODEL);
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
