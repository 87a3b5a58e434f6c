package io.sealstream.cli;

import io.sealstream.cli.attestation.AttestationCommand;
import io.sealstream.cli.keybroker.KeyBrokerCommand;
import io.sealstream.cli.batch.BatchesCommand;
import io.sealstream.cli.clients.ClientsCommand;
import io.sealstream.cli.clients.WorkersCommand;
import io.sealstream.cli.batch.SubmitCommand;
import io.sealstream.cli.bench.BenchCommand;
import io.sealstream.cli.demo.DemoCommand;
import io.sealstream.cli.stack.ComposeCommand;
import io.sealstream.cli.stack.UpCommand;
import io.sealstream.cli.stack.WorkerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sealstream} command. Subcommands arrive with the issues that build them. */
@Command(name = "sealstream",
        mixinStandardHelpOptions = true,
        version = "sealstream 0.1.0-SNAPSHOT",
        description = "Confidential batch inference on Apache Kafka.",
        subcommands = {UpCommand.class, DemoCommand.class, WorkerCommand.class, SubmitCommand.class, BatchesCommand.class, ClientsCommand.class, WorkersCommand.class, ComposeCommand.class,
                AttestationCommand.class, KeyBrokerCommand.class, io.sealstream.cli.audit.AuditCommand.class,
                io.sealstream.cli.verify.ConnectionVerifyCommand.class, io.sealstream.cli.verify.PolicyCommand.class,
                io.sealstream.cli.proxy.ProxyCommand.class,
                BenchCommand.class, CommandLine.HelpCommand.class})
public final class SealstreamCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new SealstreamCommand()).execute(args));
    }
}
