package io.sealstream.cli.keybroker;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sealstream key-broker}: the owner's custody tools (docs/key-broker.md, "Custody"). */
@Command(name = "key-broker", description = "The owner's key-broker tools: a recovery key, recovery after "
        + "every replica was lost, live policy changes.", subcommands = {RecoveryKeyCommand.class, RecoverCommand.class, PolicyCommand.class})
public final class KeyBrokerCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
