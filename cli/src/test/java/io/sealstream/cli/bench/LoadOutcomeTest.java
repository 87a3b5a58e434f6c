package io.sealstream.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadOutcomeTest {

    // CpuBreakdown itself is exercised by `sealstream bench pipeline` only: asking the JVM for the
    // CPU time of every thread while other tests' threads end crashed JDK 17.0.15 in the test fork
    // (SIGSEGV in pthread_getcpuclockid), so no test reads thread CPU times.

    @Test
    void latencyQuantilesAreTakenFromTheSortedSamples() {
        long[] nanos = new long[100];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = (i + 1) * 1_000_000L;
        }
        Load.Outcome outcome = new Load.Outcome(100, 0, 1.0, nanos, new Load.ThreadUse(0, 0));

        assertThat(outcome.latencyMs(0.5)).isEqualTo(50.0);
        assertThat(outcome.latencyMs(0.99)).isEqualTo(99.0);
        assertThat(outcome.latencyMs(1.0)).isEqualTo(100.0);
        assertThat(outcome.perSecond()).isEqualTo(100.0);
    }
}
