package io.sealstream.attestation;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EvidenceTextTest {
    @Test
    void controlCharactersFromEvidenceCannotForgeLogLines() {
        assertThat(EvidenceText.printable("CN=GPU\n12:00 INFO attest.accepted\u001b[2J"))
                .isEqualTo("CN=GPU?12:00 INFO attest.accepted?[2J");
    }

    @Test
    void longNamesAreCut() {
        assertThat(EvidenceText.printable("x".repeat(10_000))).hasSize(163).endsWith("...");
    }
}
