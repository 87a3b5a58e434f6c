package io.sealstream.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A table of docs/configuration.md that is rendered from code: between
 * {@code <!-- NAME:begin ... -->} and {@code <!-- NAME:end -->} the doc holds exactly what the
 * code renders. The modules that declare settings check their tables with it.
 */
public final class DocumentedTable {
    private DocumentedTable() {
    }

    /** Asserts that docs/configuration.md holds {@code rendered} under the marker {@code name}. */
    public static void assertConfigurationDocHolds(String name, String rendered) throws IOException {
        Path docFile = Path.of("..", "docs", "configuration.md");
        String doc = Files.readString(docFile);
        String beginPrefix = "<!-- " + name + ":begin";
        String end = "<!-- " + name + ":end -->";
        int begin = doc.indexOf(beginPrefix);
        assertThat(begin).as("docs/configuration.md has the marker %s ... -->", beginPrefix).isNotNegative();
        int bodyStart = doc.indexOf("-->", begin) + 3;
        int bodyEnd = doc.indexOf(end, bodyStart);
        assertThat(bodyEnd).as("docs/configuration.md has the marker %s", end).isGreaterThan(bodyStart);

        assertThat(doc.substring(bodyStart, bodyEnd).strip()).as("the %s table of docs/configuration.md; paste:%n%s", name, rendered)
                .isEqualTo(rendered);
    }
}
