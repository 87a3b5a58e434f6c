package io.sealstream.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.cli.bench.FaultReport;
import io.sealstream.cli.bench.FaultScenarios;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sealstream as separate processes, as deployed: three Kafka nodes (replication factor 3, min ISR
 * 2), the registry, the key broker from its own jar and two workers from theirs, each from a
 * config file. Counted on the raw committed response topic; the key broker's audit trail read
 * back from the audit topic.
 */
class DeploymentTest {
    /** Kept when the test fails: every process's config file and log are in it. */
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    @Test
    void aKafkaNodeKilledAWorkerAddedAndAWorkerStoppedWhileFiveThousandRequestsStreamLoseAndDuplicateNothing()
            throws Exception {
        FaultScenarios.DeploymentRun run = FaultScenarios.deployment(5_000, dir);
        FaultReport r = run.report();
        System.out.println("DeploymentTest: " + FaultReport.header() + System.lineSeparator() + "DeploymentTest: " + r.row()
                + System.lineSeparator() + "DeploymentTest: Kafka node " + run.killedKafkaNode() + " killed and restarted; "
                + "the added worker answered " + run.addedWorkerRequests() + " requests; the key broker audited "
                + run.keyBrokerAuditEvents());

        assertThat(r.answered()).as("answered (logs in %s)", dir).isEqualTo(5_000);
        assertThat(r.lost()).as("requests without a committed answer").isZero();
        assertThat(r.duplicated()).as("requests with more than one committed answer").isZero();
        assertThat(run.addedWorkerRequests()).as("requests the worker added mid-run answered").isPositive();
        assertThat(r.workerExits()).as("how the stopped worker exited").containsExactly(Map.entry("stopped", 1));
        assertThat(r.threadReplacements()).isZero();
        assertThat(run.audit().breaks()).as("the audit topic's chains").isEmpty();
        assertThat(run.keyBrokerAuditEvents()).as("the key broker process's audit events")
                .containsKeys("topic.provisioned", "attest.accepted", "release.granted");
        assertThat(run.keyBrokerAuditEvents().get("attest.accepted")).as("one attestation per worker at least")
                .isGreaterThanOrEqualTo(3);
    }
}
