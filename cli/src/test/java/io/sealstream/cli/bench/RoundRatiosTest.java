package io.sealstream.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class RoundRatiosTest {

    @Test
    void eachRoundIsComparedWithTheMeanOfTheEngineRunsAroundItAndTheSummaryIsTheMedianAndRange() {
        RoundRatios ratios = new RoundRatios();
        ratios.add(90, 100, 100);  // 0.90
        ratios.add(60, 100, 140);  // 0.50: the engine sped up around this round
        ratios.add(70, 80, 60);    // 1.00

        assertThat(ratios.rounds()).isEqualTo(3);
        assertThat(ratios.median()).isCloseTo(0.90, within(1e-9));
        assertThat(ratios.min()).isCloseTo(0.50, within(1e-9));
        assertThat(ratios.max()).isCloseTo(1.00, within(1e-9));
    }
}
