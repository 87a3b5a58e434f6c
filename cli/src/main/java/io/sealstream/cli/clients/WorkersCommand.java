package io.sealstream.cli.clients;

import io.sealstream.client.ConnectionFile;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.KafkaNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sealstream workers provision}: what a cluster needs before the first worker starts, with
 * the admin principal's connection file: the workers' principal and its SCRAM credential, the
 * workers' rows of the ACL table, and the dead-letter topic. Writes the owner-only credentials file
 * the workers' {@code kafka.credentials.file} names. {@code sealstream workers manifest} prints the
 * same as Strimzi resources.
 */
@Command(name = "workers", mixinStandardHelpOptions = true, description = "Prepare a Kafka cluster for workers.",
        subcommands = {WorkersCommand.Provision.class, WorkersCommand.Manifest.class})
public final class WorkersCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "provision", mixinStandardHelpOptions = true,
            description = "Create the workers' Kafka principal (a new password each time), their ACLs and the "
                    + "dead-letter topic; write worker.credentials (owner-only) for the workers' kafka.credentials.file.")
    static final class Provision implements Callable<Integer> {
        @Mixin
        ClientsCommand.AdminOptions options;

        @Mixin
        ClientsCommand.PartitionsOption topics;

        @Option(names = "--out", defaultValue = ".", description = "Where to write worker.credentials (default: here).")
        Path out;

        @Option(names = "--reuse-credentials", description = "If worker.credentials exists, provision again with its "
                + "password (ACLs and the dead-letter topic are set again; running workers keep working): a provisioning "
                + "job that runs at every start.")
        boolean reuseCredentials;

        @Option(names = "--wait-for-brokers", paramLabel = "SECONDS", defaultValue = "0", description = "Wait up to "
                + "this long for the cluster to have as many brokers as its default.replication.factor (a cluster that is "
                + "starting); default: do not wait.")
        long waitForBrokersSeconds;

        @Override
        public Integer call() throws Exception {
            ConnectionFile admin = options.connection();
            KafkaNames names = options.names(admin);
            Files.createDirectories(out);
            Path file = out.resolve("worker.credentials");
            boolean exists = Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (exists && !reuseCredentials) {
                System.err.println("sealstream workers provision: " + file + " exists; move it away, choose another --out "
                        + "or pass --reuse-credentials (running workers keep working until the password changes)");
                return 2;
            }
            if (exists && !Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                System.err.println("sealstream workers provision: " + file + " is not a regular file (a link or a "
                        + "directory?); move it away");
                return 2;
            }
            ClientCredentials credentials;
            try {
                credentials = exists ? ClientCredentials.read(file) : ClientCredentials.generate(names.workerUser());
            } catch (RuntimeException e) {
                System.err.println("sealstream workers provision: cannot reuse " + file + ": " + e.getMessage());
                return 2;
            }
            if (!credentials.username().equals(names.workerUser())) {
                System.err.println("sealstream workers provision: " + file + " is for '" + credentials.username()
                        + "', not the workers' principal '" + names.workerUser() + "'; move it away");
                return 2;
            }
            if (!exists) {
                // the password is on disk before the principal has it: a failure never strands the workers
                credentials.write(file);
            }
            try (ClientProvisioner p = options.provisioner(admin, topics.partitions)) {
                if (waitForBrokersSeconds > 0) {
                    p.awaitBrokers(java.time.Duration.ofSeconds(waitForBrokersSeconds));
                }
                p.provisionWorkers(credentials);
            } catch (RuntimeException e) {
                if (!exists) {
                    Files.deleteIfExists(file);
                }
                System.err.println("sealstream workers provision: " + e.getMessage());
                return 1;
            }
            System.out.println("workers provisioned");
            System.out.println("  principal     User:" + names.workerUser() + " (ACLs of docs/tenancy.md)");
            System.out.println("  dead letters  " + names.dlqTopic());
            System.out.println("  credentials   " + file + " (owner-only; the workers' kafka.credentials.file)");
            return 0;
        }
    }

    @Command(name = "manifest", mixinStandardHelpOptions = true,
            description = "Print what 'provision' does as Strimzi resources, for a cluster Strimzi runs: the workers' "
                    + "KafkaUser, the autoscaler's (read-only lag) and the dead-letter KafkaTopic.")
    static final class Manifest implements Callable<Integer> {
        @Mixin
        StrimziOptions strimzi;

        @Override
        public Integer call() {
            System.out.print(StrimziOptions.yaml("sealstream workers manifest --cluster " + strimzi.cluster + " --partitions "
                    + strimzi.partitions + " --replicas " + strimzi.replicas, strimzi.resources().workers()));
            return 0;
        }
    }
}
