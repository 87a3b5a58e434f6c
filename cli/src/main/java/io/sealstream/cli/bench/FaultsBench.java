package io.sealstream.cli.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench faults}: the fault scenarios R1 (worker SIGKILL), R2 (broker restart)
 * and R3 (seeded fuzz) at sizes beyond the test suite's, one table. Exit status 1 if any request
 * was lost or answered twice, a hostile record was not accounted for, or a stream thread was
 * replaced.
 */
@Command(name = "faults", mixinStandardHelpOptions = true,
        description = "Lost, duplicated, dead-lettered and refused records under a worker kill, a broker restart and fuzzing.")
public final class FaultsBench implements Callable<Integer> {
    @Option(names = "--requests", defaultValue = "50000", description = "Normal requests per scenario (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--hostile", defaultValue = "50000", description = "Hostile records in R3 (default ${DEFAULT-VALUE}).")
    int hostile;

    @Option(names = "--seed", description = "Seed of the fuzzer (default: random, printed).")
    Long seed;

    @Option(names = "--only", split = ",", description = "Run only these scenarios: r1 (worker SIGKILL), r2 (broker restart), r3 (fuzz), r4 (worker SIGTERM), "
            + "r5 (the deployment as processes: a Kafka node killed, a worker added, a worker stopped).")
    List<String> only = new ArrayList<>(List.of("r1", "r2", "r3", "r4", "r5"));

    @Override
    public Integer call() throws Exception {
        long s = seed != null ? seed : new java.security.SecureRandom().nextLong();
        System.out.println("Fault scenarios on the embedded stack, synthetic engine (pipeline only); fuzz seed " + s);
        List<FaultReport> reports = new ArrayList<>();
        if (only.contains("r1")) {
            reports.add(print(FaultScenarios.workerKill(requests)));
        }
        if (only.contains("r4")) {
            reports.add(print(FaultScenarios.workerStop(requests)));
        }
        if (only.contains("r5")) {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sealstream-deployment-");
            FaultScenarios.DeploymentRun run = FaultScenarios.deployment(requests, dir);
            System.out.println("R5: Kafka node " + run.killedKafkaNode() + " killed; the added worker answered "
                    + run.addedWorkerRequests() + " requests; audit chains " + (run.audit().intact() ? "intact"
                    : "BROKEN at " + run.audit().firstBreak().orElseThrow()) + ", the key broker audited "
                    + run.keyBrokerAuditEvents() + "; logs and configs in " + dir);
            reports.add(print(run.report()));
        }
        if (only.contains("r2")) {
            reports.add(print(FaultScenarios.brokerRestart(requests)));
        }
        if (only.contains("r3")) {
            reports.add(print(FaultScenarios.fuzz(requests, hostile, s)));
        }
        System.out.println();
        System.out.println(FaultReport.header());
        reports.forEach(r -> System.out.println(r.row()));
        boolean clean = reports.stream().allMatch(r -> r.lost() == 0 && r.duplicated() == 0
                && r.workerExits().keySet().stream().allMatch("stopped"::equals)
                && r.hostileUnaccounted() == 0 && r.threadReplacements() == 0);
        System.out.println(clean ? "no request lost or duplicated, every hostile record accounted for, no thread replaced"
                : "FAILED: see the table");
        return clean ? 0 : 1;
    }

    private static FaultReport print(FaultReport r) {
        System.out.printf("  %s done in %.1f s%n", r.scenario(), r.seconds());
        return r;
    }
}
