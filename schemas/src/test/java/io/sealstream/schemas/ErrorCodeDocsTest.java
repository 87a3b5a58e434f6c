package io.sealstream.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * docs/protocol.md lists every code a worker sends, rendered from {@link ErrorCode}: the table
 * between its error-codes markers must be exactly what this test renders. On a mismatch the
 * message holds the table to paste.
 */
class ErrorCodeDocsTest {
    private static final String BEGIN = "<!-- error-codes:begin (rendered from schemas ErrorCode; ErrorCodeDocsTest checks it) -->";
    private static final String END = "<!-- error-codes:end -->";

    @Test
    void theProtocolDocumentListsEveryErrorCodeAsTheEnumDefinesIt() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "protocol.md"));
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("docs/protocol.md has the marker " + BEGIN).isNotNegative();
        assertThat(end).as("docs/protocol.md has the marker " + END).isGreaterThan(begin);

        String documented = doc.substring(begin + BEGIN.length(), end).strip();
        assertThat(documented).as("the error code table of docs/protocol.md; paste:%n%s", rendered())
                .isEqualTo(rendered());
    }

    @Test
    void codesAreUniqueLowerCaseAndSafeForHeadersAndLabels() {
        assertThat(Arrays.stream(ErrorCode.values()).map(ErrorCode::code)).doesNotHaveDuplicates()
                .allMatch(c -> c.matches("[a-z][a-z_]{2,40}"));
        assertThat(ErrorCode.of("request_too_large")).contains(ErrorCode.REQUEST_TOO_LARGE);
        assertThat(ErrorCode.of("no_such_code")).isEmpty();
    }

    static String rendered() {
        String header = "| code | reaches the sender as | HTTP | what to do |\n|---|---|---|---|\n";
        return header + Arrays.stream(ErrorCode.values())
                .map(c -> "| `" + c.code() + "` | " + delivery(c.delivery()) + " | " + c.httpStatus() + " | "
                        + c.remedy() + " |")
                .collect(Collectors.joining("\n"));
    }

    private static String delivery(ErrorCode.Delivery d) {
        return switch (d) {
            case ANSWER -> "encrypted error";
            case DEAD_LETTER -> "dead letter";
            case BOTH -> "encrypted error if it authenticated, else dead letter";
        };
    }
}
