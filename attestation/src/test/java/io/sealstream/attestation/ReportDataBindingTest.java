package io.sealstream.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The binding's text form, for evidence sources that take report data as a string. */
class ReportDataBindingTest {
    private static final byte[] BINDING = ReportDataBinding.forWorker(new byte[32], new byte[32], new byte[32]);

    @Test
    void theTextFormIsSixtyFourUrlSafeCharactersFillingReportData() {
        String text = ReportDataBinding.asText(BINDING);

        assertThat(text).hasSize(64).matches("[A-Za-z0-9_-]{64}");
        assertThat(ReportDataBinding.textReportData(BINDING)).isEqualTo(text.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void reportDataMatchesItsBindingRawOrAsText() {
        assertThat(ReportDataBinding.matches(BINDING, BINDING.clone())).isTrue();
        assertThat(ReportDataBinding.matches(BINDING, ReportDataBinding.textReportData(BINDING))).isTrue();
    }

    @Test
    void anotherBindingsTextOrAShortenedTextDoesNotMatch() {
        byte[] other = ReportDataBinding.forWorker(new byte[32], new byte[32], filled(32, 1));
        byte[] shortened = ReportDataBinding.textReportData(BINDING);
        shortened[63] = 0;

        assertThat(ReportDataBinding.matches(BINDING, ReportDataBinding.textReportData(other))).isFalse();
        assertThat(ReportDataBinding.matches(BINDING, shortened)).isFalse();
        assertThat(ReportDataBinding.matches(BINDING, Arrays.copyOf(BINDING, 48))).isFalse();
    }

    private static byte[] filled(int n, int b) {
        byte[] a = new byte[n];
        Arrays.fill(a, (byte) b);
        return a;
    }
}
