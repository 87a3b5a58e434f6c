package io.sealstream.cli.attestation;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sealstream attestation}: tools for evidence. */
@Command(name = "attestation", description = "Work with TEE evidence.", subcommands = {VerifyCommand.class, InitDataCommand.class, PolicyDiffCommand.class})
public final class AttestationCommand implements Runnable {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
