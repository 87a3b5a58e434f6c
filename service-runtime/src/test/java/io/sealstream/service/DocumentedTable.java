package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A table of the docs that is rendered from code: between {@code <!-- NAME:begin ... -->} and
 * {@code <!-- NAME:end -->} the doc holds exactly what the code renders. The modules that declare
 * settings check their tables in docs/configuration.md with it; the metric catalogue its table in
 * docs/observability.md.
 */
public final class DocumentedTable {
    private DocumentedTable() {
    }

    /** Asserts that docs/configuration.md holds {@code rendered} under the marker {@code name}. */
    public static void assertConfigurationDocHolds(String name, String rendered) throws IOException {
        assertDocHolds("configuration.md", name, rendered);
    }

    /** Asserts that {@code docs/<docName>} holds {@code rendered} under the marker {@code name}. */
    public static void assertDocHolds(String docName, String name, String rendered) throws IOException {
        Path docFile = Path.of("..", "docs", docName);
        String doc = Files.readString(docFile);
        String beginPrefix = "<!-- " + name + ":begin";
        String end = "<!-- " + name + ":end -->";
        int begin = doc.indexOf(beginPrefix);
        assertThat(begin).as("docs/%s has the marker %s ... -->", docName, beginPrefix).isNotNegative();
        int bodyStart = doc.indexOf("-->", begin) + 3;
        int bodyEnd = doc.indexOf(end, bodyStart);
        assertThat(bodyEnd).as("docs/%s has the marker %s", docName, end).isGreaterThan(bodyStart);

        assertThat(doc.substring(bodyStart, bodyEnd).strip()).as("the %s table of docs/%s; paste:%n%s", name, docName, rendered)
                .isEqualTo(rendered);
    }
}
