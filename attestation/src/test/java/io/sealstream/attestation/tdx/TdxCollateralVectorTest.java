package io.sealstream.attestation.tdx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * TCB status from Intel collateral, on the dcap-qvl quote with its full QuoteCollateralV3
 * (../shared/vectors/tdx/dcap-qvl, PROVENANCE-more.md §2.2).
 */
class TdxCollateralVectorTest {
    /** The last second at which TCB Info, QE Identity and both CRLs are all valid. */
    private static final Instant IN_WINDOW = Instant.parse("2025-07-19T10:00:34Z");
    private static final String MRTD =
            "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7";
    private static final byte[] MODEL = new byte[32];

    @Test
    void theDcapQvlQuoteIsUpToDateWithoutAdvisories() throws Exception {
        TdxVerifier.Result r = verifier(collateralJson()).verifyDetailed(quote(), IN_WINDOW);

        TdxTcbEvaluation tcb = r.tcb().orElseThrow();
        assertThat(tcb.status()).isEqualTo(TcbStatus.UP_TO_DATE);
        assertThat(tcb.advisoryIds()).isEmpty();
        assertThat(tcb.fmspc()).isEqualTo("B0C06F000000");
        assertThat(tcb.qeStatus()).isEqualTo(TcbStatus.UP_TO_DATE);
        assertThat(r.claims().tcbStatus()).contains("UpToDate");
    }

    @Test
    void theQuoteToleratesTheZeroPaddingAfterItsSignatureData() throws Exception {
        TdxQuote q = TdxQuote.parse(quote().report());

        assertThat(q.trailingBytes()).isEqualTo(70);
        assertThat(q.version()).isEqualTo(4);
    }

    @Test
    void collateralPastItsNextUpdateIsExpired() throws Exception {
        TdxVerifier verifier = verifier(collateralJson());
        Evidence quote = quote();

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> verifier.verify(quote, Instant.parse("2025-07-20T00:00:00Z")));

        assertThat(e.failure()).isEqualTo(AttestationFailure.COLLATERAL_EXPIRED);
    }

    @Test
    void aTcbInfoChangedAfterSigningIsRejected() throws Exception {
        String json = collateralJson();
        String field = "\\\"tcbEvaluationDataNumber\\\":17";
        int at = json.indexOf(field, json.indexOf("\"tcb_info\""));
        String tampered = json.substring(0, at) + field.replace("17", "18") + json.substring(at + field.length());

        Evidence quote = quote();

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> verifier(tampered).verify(quote, IN_WINDOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.BAD_COLLATERAL);
        assertThat(e.getMessage()).contains("TCB Info signature");
    }

    @Test
    void collateralForAnotherFmspcGivesNoTcbStatus() throws Exception {
        TdxVerifier.Result r = verifier(collateralJson()).verifyDetailed(
                new Evidence(TeeType.TDX, bytes("tdx", "go-tdx-guest", "tdx_prod_quote_SPR_E4.dat"), List.of()),
                Instant.parse("2025-07-01T00:00:00Z"));

        assertThat(r.fmspc()).isEqualTo("50806F000000");
        assertThat(r.tcb()).isEmpty();
        assertThat(r.claims().tcbStatus()).isEmpty();
    }

    @Test
    void theCollateralsCrlsAreCheckedAndStaleOnesRefused() throws Exception {
        TdxCollateral c = TdxCollateral.fromQuoteCollateralJson(collateralJson());
        assertThat(c.revocationLists().lists()).hasSize(2);

        // the PCK CRL's nextUpdate is a few minutes before the TCB Info's
        Evidence quote = quote();

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> TdxVerifier.withIntelRoot()
                .withRevocationLists(c.revocationLists()).verify(quote, Instant.parse("2025-07-19T10:10:00Z")));

        assertThat(e.failure()).isEqualTo(AttestationFailure.COLLATERAL_EXPIRED);
        assertThat(e.getMessage()).contains("CRL");
    }

    @Test
    void aStrictTdxPolicyAcceptsTheUpToDateQuote() throws Exception {
        AttestedClaims claims = verifier(collateralJson()).verify(quote(), IN_WINDOW);

        policy("[UpToDate]").check(claims, claims.reportData(), MODEL, IN_WINDOW);

        assertThat(claims.debug()).isFalse();
    }

    @Test
    void aPolicyThatAcceptsOtherStatusesRefusesIt() throws Exception {
        AttestedClaims claims = verifier(collateralJson()).verify(quote(), IN_WINDOW);

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("[OutOfDate]").check(claims, claims.reportData(), MODEL, IN_WINDOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.TCB_STATUS_NOT_ACCEPTED);
    }

    @Test
    void withoutCollateralTheQuoteHasNoStatusAndAPolicyRefusesIt() throws Exception {
        AttestedClaims claims = TdxVerifier.withIntelRoot().verify(quote(), IN_WINDOW);

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> policy("[UpToDate]").check(claims, claims.reportData(), MODEL, IN_WINDOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.TCB_STATUS_NOT_ACCEPTED);
        assertThat(e.getMessage()).contains("collateral");
    }

    /** A strict policy for this quote: its MRTD, and its own MRCONFIGID and boot RTMRs as the workload's identity. */
    private static AttestationPolicy policy(String statuses) throws Exception {
        return AttestationPolicy.parse("""
                version: 1
                models: ['%s']
                tee:
                  tdx:
                    mrtd: ['%s']
                    accepted-tcb-status: %s
                """.formatted(HexFormat.of().formatHex(MODEL), MRTD, statuses) + workloadIdentity(TdxQuote.parse(quote().report())));
    }

    /** The lines that pin {@code quote}'s MRCONFIGID and RTMR0-2 under {@code tee.tdx}. */
    static String workloadIdentity(TdxQuote quote) {
        StringBuilder b = new StringBuilder("    mrconfigid: ['" + HexFormat.of().formatHex(quote.mrConfigId()) + "']\n");
        for (int i = 0; i < 3; i++) {
            b.append("    rtmr").append(i).append(": ['").append(HexFormat.of().formatHex(quote.rtmr(i))).append("']\n");
        }
        return b.toString();
    }

    private static TdxVerifier verifier(String collateralJson) throws AttestationException {
        return TdxVerifier.withIntelRoot().withCollateral(List.of(TdxCollateral.fromQuoteCollateralJson(collateralJson)));
    }

    private static Evidence quote() throws Exception {
        return new Evidence(TeeType.TDX, bytes("tdx", "dcap-qvl", "tdx_quote"), List.of());
    }

    private static String collateralJson() throws Exception {
        return new String(bytes("tdx", "dcap-qvl", "tdx_quote_collateral.json"), java.nio.charset.StandardCharsets.UTF_8);
    }

    static byte[] bytes(String... path) throws Exception {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors").resolve(
                String.join("/", path));
        assumeTrue(Files.isRegularFile(p), "real TDX vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return Files.readAllBytes(p);
    }

}
