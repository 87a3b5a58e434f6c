package io.sealstream.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.bench.FaultReport;
import io.sealstream.cli.bench.FaultScenarios;
import io.sealstream.localstack.CanaryScan;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The fault scenarios at the sizes the robustness rule names, through the real stack (broker,
 * registry, key broker, two workers), counted on raw committed topic records. Each scenario starts
 * its own stack. {@code sealstream bench faults} runs the same scenarios larger.
 */
class FaultToleranceTest {

    @Test
    void r1ASigkilledWorkerLosesAndDuplicatesNothingOfTenThousandRequests() throws Exception {
        FaultReport r = FaultScenarios.workerKill(10_000);

        assertThat(r.answered()).isEqualTo(10_000);
        assertThat(r.lost()).as("requests without a committed answer").isZero();
        assertThat(r.duplicated()).as("requests with more than one committed answer").isZero();
        assertThat(r.threadReplacements()).isZero();
    }

    @Test
    void r2ABrokerRestartOnItsOwnDataLosesAndDuplicatesNothing() throws Exception {
        FaultReport r = FaultScenarios.brokerRestart(3_000);

        assertThat(r.answered()).isEqualTo(3_000);
        assertThat(r.lost()).isZero();
        assertThat(r.duplicated()).isZero();
    }

    @Test
    void r3TenThousandHostileRecordsAreEachAccountedForAndNormalTrafficIsServed() throws Exception {
        long seed = Long.getLong("sealstream.fuzz.seed", new SecureRandom().nextLong());
        System.out.println("FaultToleranceTest R3 fuzz seed " + seed + " (rerun with -Dsealstream.fuzz.seed=" + seed + ")");
        AtomicReference<CanaryScan> scan = new AtomicReference<>();
        FaultReport r = FaultScenarios.fuzz(1_000, 10_000, seed,
                stack -> scan.set(new CanaryScan(FaultScenarios.FUZZ_CANARY).topics(stack.kafka()).files(stack.dataDir())));

        assertThat(r.answered()).as("normal requests answered (seed %d)", seed).isEqualTo(1_000);
        assertThat(r.lost()).isZero();
        assertThat(r.duplicated()).isZero();
        assertThat(r.hostileUnaccounted()).as("hostile records not ending in exactly one expected way (seed %d)", seed)
                .isZero();
        assertThat(r.threadReplacements()).as("stream threads replaced (seed %d)", seed).isZero();
        assertThat(r.deadLetters()).containsKeys("malformed", "tampered", "client_mismatch", "unknown_key", "replayed");
        assertThat(r.errors()).containsKeys("expired", "malformed", "request_too_large");
        assertThat(scan.get().recordsScanned()).isGreaterThan(10_000);
        assertThat(scan.get().findings()).as("places holding the fuzz canary").isEmpty();
    }
}
