package io.sealstream.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
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
    void snpAndTdxReportDataMatchesItsBindingRawOrAsText() {
        for (TeeType tee : List.of(TeeType.SNP, TeeType.TDX)) {
            assertThat(ReportDataBinding.matches(BINDING, BINDING.clone(), tee)).isTrue();
            assertThat(ReportDataBinding.matches(BINDING, ReportDataBinding.textReportData(BINDING), tee)).isTrue();
        }
    }

    @Test
    void azureEvidenceNeverCarriesTheTextForm() {
        assertThat(ReportDataBinding.matches(BINDING, BINDING.clone(), TeeType.AZURE_SNP)).isTrue();
        assertThat(ReportDataBinding.matches(BINDING, ReportDataBinding.textReportData(BINDING), TeeType.AZURE_SNP)).isFalse();
    }

    @Test
    void anotherBindingsTextOrAShortenedTextDoesNotMatch() {
        byte[] other = ReportDataBinding.forWorker(new byte[32], new byte[32], filled(32, 1));
        byte[] shortened = ReportDataBinding.textReportData(BINDING);
        shortened[63] = 0;

        assertThat(ReportDataBinding.matches(BINDING, ReportDataBinding.textReportData(other), TeeType.SNP)).isFalse();
        assertThat(ReportDataBinding.matches(BINDING, shortened, TeeType.SNP)).isFalse();
        assertThat(ReportDataBinding.matches(BINDING, Arrays.copyOf(BINDING, 48), TeeType.SNP)).isFalse();
    }

    private static byte[] filled(int n, int b) {
        byte[] a = new byte[n];
        Arrays.fill(a, (byte) b);
        return a;
    }
}
