package io.sealstream.attestation.tdx;

import static io.sealstream.attestation.tdx.TdxCollateralVectorTest.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.RevocationLists;
import io.sealstream.attestation.TeeType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The quotes and PCS collateral of go-tdx-guest (../shared/vectors/tdx/go-tdx-guest,
 * PROVENANCE-more.md §2.1): a v4 quote from a Sapphire Rapids machine with trailing test bytes, a
 * v5 quote with a TDX 1.5 body, and a v4 quote padded to 8000 bytes.
 */
class GoTdxGuestVectorTest {
    private static final Instant SPR_TIME = Instant.parse("2023-07-01T01:00:00Z");
    private static final Instant V5_TIME = Instant.parse("2026-02-03T01:00:00Z");
    private final TdxVerifier intel = TdxVerifier.withIntelRoot();

    @Test
    void theSapphireRapidsQuoteVerifiesAndItsTrailingBytesAreIgnored() throws Exception {
        TdxVerifier.Result r = intel.verifyDetailed(spr(), SPR_TIME);

        assertThat(r.quote().trailingBytes()).isEqualTo(39);
        assertThat(r.fmspc()).isEqualTo("50806F000000");
        assertThat(r.tcb()).isEmpty();
    }

    @Test
    void afterThePckCertificateExpiresTheQuoteNoLongerVerifies() throws Exception {
        Evidence spr = spr();

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> intel.verify(spr, Instant.parse("2053-07-01T01:00:00Z")));

        assertThat(e.failure()).isEqualTo(AttestationFailure.CERTIFICATE_EXPIRED);
    }

    @Test
    void theSapphireRapidsPlatformIsBelowEveryTcbLevelOfItsCollateral() throws Exception {
        TdxVerifier withCollateral = intel.withCollateral(List.of(sprCollateral()));
        Evidence spr = spr();

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> withCollateral.verify(spr, SPR_TIME));

        assertThat(e.failure()).isEqualTo(AttestationFailure.TCB_LEVEL_UNSUPPORTED);
        assertThat(e.getMessage()).contains("PCE SVN 11").contains("50806F000000");
    }

    @Test
    void thePckPlatformCrlWithFortyFourEntriesDoesNotRevokeThisPck() throws Exception {
        RevocationLists crls = sprCollateral().revocationLists();
        assertThat(crls.lists()).hasSize(2);
        assertThat(crls.lists().get(0).getRevokedCertificates()).hasSize(44);

        AttestedClaims c = intel.withRevocationLists(crls).verify(spr(), SPR_TIME);

        assertThat(c.tee()).isEqualTo(TeeType.TDX);
    }

    @Test
    void theV5QuoteWithATdx15BodyVerifies() throws Exception {
        TdxVerifier.Result r = intel.verifyDetailed(v5(), V5_TIME);

        assertThat(r.quote().version()).isEqualTo(5);
        assertThat(r.quote().bodyType()).isEqualTo(3);
        assertThat(r.quote().mrServiceTd()).isPresent();
        assertThat(r.claims().extraMeasurements()).containsKey("mrservicetd");
        assertThat(r.fmspc()).isEqualTo("90C06F000000");
    }

    @Test
    void theV5PlatformAndItsTdxModuleAreUpToDateUnderTheirTcbInfo() throws Exception {
        TdxQuote q = TdxQuote.parse(v5().report());
        TcbInfo info = TcbInfo.parse(pcsBody(bytes("tdx", "go-tdx-guest", "sample_tcbinfo_response_v5"), "tcbInfo"));
        PckExtensions pck = PckExtensions.of(TdxCollateral.pem(q.pckChainPem(), "PCK chain").get(0));

        TcbEvaluator.PlatformTcb platform = TcbEvaluator.platform(q, pck, info);

        assertThat(q.teeTcbSvn()[1]).isEqualTo((byte) 1);
        assertThat(platform.level().status()).isEqualTo(TcbStatus.UP_TO_DATE);
        assertThat(platform.moduleStatus()).contains(TcbStatus.UP_TO_DATE);
    }

    @Test
    void theQuotePaddedToEightThousandBytesVerifies() throws Exception {
        byte[] padded = bytes("tdx", "go-tdx-guest", "ccel-cos-113-tdx-quote.dat");

        TdxVerifier.Result r = intel.verifyDetailed(new Evidence(TeeType.TDX, padded, List.of()),
                Instant.parse("2025-01-01T00:00:00Z"));

        assertThat(padded).hasSize(8000);
        assertThat(r.quote().trailingBytes()).isEqualTo(3065);
        assertThat(r.claims().reportData()).isEqualTo(bytes("tdx", "go-tdx-guest", "ccel-nonce.dat"));
    }

    /**
     * go-tdx-guest's single-byte mutations of the Sapphire Rapids quote, each rejected for its own
     * reason. A byte changed inside the root certificate (0x1329) changes its fingerprint: the root
     * is pinned, so that is an unknown root before any signature is looked at.
     */
    @ParameterizedTest(name = "quote[0x{0}] = 0x{1} fails with {2}")
    @CsvSource({
            "00, 03, UNSUPPORTED_VERSION",
            "278, 10, MALFORMED_EVIDENCE",
            "1343, 32, BAD_CERTIFICATE_CHAIN",
            "1329, 32, UNKNOWN_ROOT",
            "F5F, 32, BAD_CERTIFICATE_CHAIN",
            "B77, 32, BAD_CERTIFICATE_CHAIN",
            "1E, 32, BAD_SIGNATURE",
            "3C, 32, BAD_SIGNATURE"})
    void aMutatedByteIsRejected(String offset, String value, AttestationFailure expected) throws Exception {
        byte[] q = spr().report();
        q[Integer.parseInt(offset, 16)] = (byte) Integer.parseInt(value, 16);

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> intel.verify(new Evidence(TeeType.TDX, q, List.of()), SPR_TIME));

        assertThat(e).isNotNull();
        assertThat(e.failure()).isEqualTo(expected);
    }

    private static Evidence spr() throws Exception {
        return new Evidence(TeeType.TDX, bytes("tdx", "go-tdx-guest", "tdx_prod_quote_SPR_E4.dat"), List.of());
    }

    private static Evidence v5() throws Exception {
        return new Evidence(TeeType.TDX, bytes("tdx", "go-tdx-guest", "quote_v5_sample.dat"), List.of());
    }

    private static TdxCollateral sprCollateral() throws Exception {
        return TdxCollateral.fromPcsResponses(text("sample_tcbInfo_response"), text("tcbinfo-issuer-chain.pem"),
                text("sample_qeIdentity_response"), text("qeidentity-issuer-chain.pem"), RevocationLists.of(List.of(
                        RevocationLists.parse(bytes("tdx", "go-tdx-guest", "pckcrl")),
                        RevocationLists.parse(bytes("tdx", "go-tdx-guest", "rootcrl.der")))));
    }

    private static String text(String name) throws Exception {
        return new String(bytes("tdx", "go-tdx-guest", name), StandardCharsets.UTF_8);
    }

    private static String pcsBody(byte[] response, String field) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(response).get(field).toString();
    }
}
