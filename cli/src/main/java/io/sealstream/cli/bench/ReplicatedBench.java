package io.sealstream.cli.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench replicated}: the workers' commit interval on a replicated cluster of
 * processes, the deployment R5 runs without its faults (issue 13, item 7). Each interval is
 * measured in every round, in turn, and reported as its median rate with the range, side by side.
 */
@Command(name = "replicated", mixinStandardHelpOptions = true,
        description = "Requests/s and latency of the process deployment (3 Kafka nodes, replication factor 3, 2 workers) "
                + "for each workers' commit interval, rounds alternated.")
final class ReplicatedBench implements Callable<Integer> {
    @Option(names = "--requests", defaultValue = "3000", description = "Requests per run (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--commit-intervals", split = ",", defaultValue = "25,100,200",
            description = "The workers' commit.interval.ms values to compare (default ${DEFAULT-VALUE}).")
    List<Integer> intervals;

    @Option(names = "--rounds", defaultValue = "2", description = "Rounds; each runs every interval (default ${DEFAULT-VALUE}).")
    int rounds;

    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("sealstream-replicated-");
        System.out.println("Process deployment: 3 Kafka nodes (replication factor 3, min ISR 2), 2 workers (synthetic "
                + "engine), " + requests + " requests per run, 512 in flight; logs and configs in " + dir);
        List<FaultScenarios.CommitIntervalRun> runs = FaultScenarios.replicatedCommitIntervals(requests, dir, intervals,
                rounds, r -> System.out.printf("  round %d, commit interval %d ms: %.0f requests/s, p50 %.0f ms, p99 %.0f ms%n",
                        r.round(), r.commitIntervalMs(), r.rate(), r.p50Millis(), r.p99Millis()));
        System.out.println();
        System.out.println("| commit interval | requests/s, median (range) | vs " + intervals.get(0) + " ms | p50 ms | p99 ms | lost | duplicated |");
        System.out.println("|---|---|---|---|---|---|---|");
        double base = medianRate(runs, intervals.get(0));
        boolean clean = true;
        for (int interval : intervals) {
            List<FaultScenarios.CommitIntervalRun> of = runs.stream().filter(r -> r.commitIntervalMs() == interval)
                    .sorted(Comparator.comparingDouble(FaultScenarios.CommitIntervalRun::rate)).toList();
            double median = medianRate(runs, interval);
            System.out.printf("| %d ms | %.0f (%.0f - %.0f) | %.2f | %.0f | %.0f | %d | %d |%n", interval, median,
                    of.get(0).rate(), of.get(of.size() - 1).rate(), median / base,
                    median(of.stream().map(FaultScenarios.CommitIntervalRun::p50Millis).toList()),
                    median(of.stream().map(FaultScenarios.CommitIntervalRun::p99Millis).toList()),
                    of.stream().mapToInt(FaultScenarios.CommitIntervalRun::lost).sum(),
                    of.stream().mapToInt(FaultScenarios.CommitIntervalRun::duplicated).sum());
            clean &= of.stream().allMatch(r -> r.lost() == 0 && r.duplicated() == 0);
        }
        return clean ? 0 : 1;
    }

    private static double medianRate(List<FaultScenarios.CommitIntervalRun> runs, int interval) {
        return median(runs.stream().filter(r -> r.commitIntervalMs() == interval)
                .map(FaultScenarios.CommitIntervalRun::rate).toList());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
