package io.sealstream.cli.stack;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sealstream compose init}: the files docker/compose.yaml mounts ({@link ComposeFiles}). */
@Command(name = "compose", mixinStandardHelpOptions = true, description = "Files for docker/compose.yaml.",
        subcommands = ComposeCommand.Init.class)
public final class ComposeCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Write the Kafka nodes' settings and CA, the admin connection, a development policy and "
                    + "simulated TEE, and the key broker's and workers' config files for docker/compose.yaml.")
    static final class Init implements Callable<Integer> {
        @Option(names = "--out", defaultValue = "docker/deploy",
                description = "Directory to write (compose.yaml's SEALSTREAM_DEPLOY_DIR; default: ${DEFAULT-VALUE}).")
        Path out;

        @Override
        public Integer call() {
            try {
                ComposeFiles.Written w = ComposeFiles.write(out);
                System.out.println("compose files written to " + w.dir());
                System.out.println("  policy   " + w.policyId() + " (development: simulated TEE, synthetic engine)");
                System.out.println("  next     docker compose -f docker/compose.yaml up -d   (docs/deployment.md)");
                return 0;
            } catch (IllegalStateException | java.io.UncheckedIOException e) {
                System.err.println("sealstream compose init: " + e.getMessage());
                return 2;
            }
        }
    }
}
