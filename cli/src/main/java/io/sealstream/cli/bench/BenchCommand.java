package io.sealstream.cli.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code sealstream bench}: benchmarks that print tables. Never run by the test suite. */
@Command(name = "bench",
        description = "Run a benchmark and print its figures.",
        subcommands = {EnvelopeBench.class, AttestationBench.class, ChatBench.class, BatchBench.class, FaultsBench.class, TenancyBench.class,
                PipelineBench.class, ReplicatedBench.class, ProxyBench.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
