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
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The TDX v4 quote captured on real hardware (../shared/vectors/tdx/quote-v4.dat, PROVENANCE.md). */
class TdxQuoteVectorTest {
    private static final String MRTD =
            "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031";
    private static final Instant IN_PCK_VALIDITY = Instant.parse("2025-06-01T00:00:00Z");
    private final TdxVerifier intel = TdxVerifier.withIntelRoot();

    @Test
    void theQuoteParsesToTheStatedMeasurementAndAttributes() throws Exception {
        TdxQuote q = TdxQuote.parse(quote());

        assertThat(q.version()).isEqualTo(4);
        assertThat(java.util.HexFormat.of().formatHex(q.mrTd())).isEqualTo(MRTD);
        assertThat(java.util.HexFormat.of().formatHex(q.tdAttributes())).isEqualTo("0100001000000000");
        assertThat(q.debug()).isTrue();
        assertThat(q.pckChainPem()).contains("BEGIN CERTIFICATE");
    }

    @Test
    void everySignatureAndThePckChainVerifyToIntelsRoot() throws Exception {
        AttestedClaims claims = intel.verify(new Evidence(TeeType.TDX, quote(), List.of()), IN_PCK_VALIDITY);

        assertThat(claims.measurementHex()).isEqualTo(MRTD);
        assertThat(claims.debug()).isTrue();
        assertThat(claims.extraMeasurements()).containsKeys("rtmr0", "rtmr3", "mrconfigid");
    }

    @Test
    void aStrictPolicyRefusesItBecauseDebugIsOnThoughEverySignatureIsValid() throws Exception {
        AttestedClaims claims = intel.verify(new Evidence(TeeType.TDX, quote(), List.of()), IN_PCK_VALIDITY);
        AttestationPolicy strict = AttestationPolicy.parse("""
                version: 1
                models: ['%s']
                tee:
                  tdx:
                    mrtd: ['%s']
                """.formatted("ab".repeat(32), MRTD) + TdxCollateralVectorTest.workloadIdentity(TdxQuote.parse(quote())));

        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> strict.check(claims, claims.reportData(), java.util.HexFormat.of().parseHex("ab".repeat(32)),
                        IN_PCK_VALIDITY));

        assertThat(e.failure()).isEqualTo(AttestationFailure.DEBUG_ENABLED);
    }

    @Test
    void aChangedBodyByteBreaksTheQuoteSignature() throws Exception {
        byte[] q = quote();
        q[TdxQuote.HEADER_LENGTH + 136] ^= 1; // first byte of MRTD

        assertFailure(q, AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void aChangedQeReportByteBreaksTheQeSignature() throws Exception {
        byte[] q = quote();
        q[TdxQuote.HEADER_LENGTH + TdxQuote.BODY_LENGTH + 4 + 128 + 6 + 10] ^= 1;

        assertFailure(q, AttestationFailure.BAD_SIGNATURE);
    }

    @Test
    void aChainWithItsLeafAndCaSwappedIsRefusedForItsShape() throws Exception {
        byte[] q = quote();
        String text = new String(q, java.nio.charset.StandardCharsets.ISO_8859_1);
        int first = text.indexOf("-----BEGIN CERTIFICATE-----");
        int second = text.indexOf("-----BEGIN CERTIFICATE-----", first + 1);
        int third = text.indexOf("-----BEGIN CERTIFICATE-----", second + 1);
        // swap the PCK and the CA: same bytes, same length, the CA now poses as the leaf
        String swapped = text.substring(0, first) + text.substring(second, third) + text.substring(first, second)
                + text.substring(third);

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> intel.verify(
                new Evidence(TeeType.TDX, swapped.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), List.of()),
                IN_PCK_VALIDITY));

        assertThat(e.failure()).isEqualTo(AttestationFailure.BAD_CERTIFICATE_CHAIN);
    }

    @Test
    void truncatedAndOversizedQuotesAreMalformedWithTheFieldNamed() throws Exception {
        byte[] q = quote();
        for (int length : new int[] {100, 700, q.length - 10}) {
            AttestationException e = catchThrowableOfType(AttestationException.class,
                    () -> TdxQuote.parse(Arrays.copyOf(q, length)));
            assertThat(e.failure()).isEqualTo(AttestationFailure.MALFORMED_EVIDENCE);
        }
        assertThat(catchThrowableOfType(AttestationException.class,
                () -> TdxQuote.parse(Arrays.copyOf(q, TdxQuote.MAX_LENGTH + 1)))).hasMessageContaining("larger than");
    }

    @Test
    void zeroPaddingAfterTheSignatureDataIsToleratedAndCounted() throws Exception {
        byte[] q = quote();

        TdxQuote padded = TdxQuote.parse(Arrays.copyOf(q, q.length + 1000));

        assertThat(padded.trailingBytes()).isEqualTo(1000);
        assertThat(padded.mrTd()).isEqualTo(TdxQuote.parse(q).mrTd());
    }

    private void assertFailure(byte[] quote, AttestationFailure expected) {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> intel.verify(new Evidence(TeeType.TDX, quote, List.of()), IN_PCK_VALIDITY));
        assertThat(e).as("expected %s", expected).isNotNull();
        assertThat(e.failure()).isEqualTo(expected);
    }

    private static byte[] quote() throws Exception {
        Path p = Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "tdx", "quote-v4.dat");
        assumeTrue(Files.isRegularFile(p), "real TDX vector missing: " + p + " (../shared/vectors is not beside the checkout)");
        return Files.readAllBytes(p);
    }
}
