package io.sealstream.cli.clients;

import io.sealstream.client.ConnectionFile;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.KafkaNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code sealstream workers provision}: what a cluster needs before the key broker and the first
 * worker start, with the admin principal's connection file: the workers' principal, its SCRAM
 * credential, its rows of the ACL table and the dead-letter topic; the key broker's principal, its
 * rows and the audit topic. Writes the owner-only credentials files the services'
 * {@code kafka.credentials.file} names. {@code sealstream workers manifest} prints the same as
 * Strimzi resources.
 */
@Command(name = "workers", mixinStandardHelpOptions = true, description = "Prepare a Kafka cluster for the workers "
        + "and the key broker.",
        subcommands = {WorkersCommand.Provision.class, WorkersCommand.Manifest.class})
public final class WorkersCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "provision", mixinStandardHelpOptions = true,
            description = "Create the services' Kafka principals (a new password each time): the workers' with their ACLs "
                    + "and the dead-letter topic, the key broker's with its ACLs and the audit topic; write "
                    + "worker.credentials and key-broker.credentials (owner-only) for their kafka.credentials.file.")
    static final class Provision implements Callable<Integer> {
        private static final String WORKER_FILE = "worker.credentials";
        private static final String KEY_BROKER_FILE = "key-broker.credentials";

        @Mixin
        ClientsCommand.AdminOptions options;

        @Mixin
        ClientsCommand.PartitionsOption topics;

        @Option(names = "--out", defaultValue = ".", description = "Where to write " + WORKER_FILE + " (default: here).")
        Path out;

        @Option(names = "--key-broker-out", required = true, description = "Where to write " + KEY_BROKER_FILE + ": a "
                + "directory other than --out, so that the workers' machines never hold the key broker's password.")
        Path keyBrokerOut;

        @Option(names = "--reuse-credentials", description = "If the credentials files exist, provision again with "
                + "their passwords (ACLs and topics are set again; running services keep working): a provisioning job "
                + "that runs at every start.")
        boolean reuseCredentials;

        @Option(names = "--wait-for-brokers", paramLabel = "SECONDS", defaultValue = "0", description = "Wait up to "
                + "this long for the cluster to have as many brokers as its default.replication.factor (a cluster that is "
                + "starting); default: do not wait.")
        long waitForBrokersSeconds;

        /** One service's credentials file: read again, or made and written before its principal exists. */
        private record Principal(Path file, boolean existed, ClientCredentials credentials) {
        }

        /** A refusal that names the file and what to do; the command exits 2. */
        private static final class Refused extends Exception {
            private static final long serialVersionUID = 1L;

            Refused(String message) {
                super(message);
            }
        }

        /** Removes the files of principals the cluster never got: a failed run leaves nothing behind. */
        private static void deleteAll(List<Principal> written) throws java.io.IOException {
            for (Principal w : written) {
                Files.deleteIfExists(w.file());
            }
        }

        private Principal principal(Path file, String user, String whose) throws Refused {
            boolean exists = Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (exists && !reuseCredentials) {
                throw new Refused(file + " exists; move it away, choose another directory or pass --reuse-credentials "
                        + "(running services keep working until the password changes)");
            }
            if (exists && !Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new Refused(file + " is not a regular file (a link or a directory?); move it away");
            }
            ClientCredentials credentials;
            try {
                credentials = exists ? ClientCredentials.read(file) : ClientCredentials.generate(user);
            } catch (RuntimeException e) {
                throw new Refused("cannot reuse " + file + ": " + e.getMessage());
            }
            if (!credentials.username().equals(user)) {
                throw new Refused(file + " is for '" + credentials.username() + "', not " + whose + " principal '" + user
                        + "'; move it away");
            }
            return new Principal(file, exists, credentials);
        }

        @Override
        public Integer call() throws Exception {
            ConnectionFile admin = options.connection();
            KafkaNames names = options.names(admin);
            if (out.toAbsolutePath().normalize().equals(keyBrokerOut.toAbsolutePath().normalize())) {
                System.err.println("sealstream workers provision: --key-broker-out is --out; give the key broker's "
                        + "credentials a directory of their own, so that the workers never mount its password");
                return 2;
            }
            Files.createDirectories(out);
            Files.createDirectories(keyBrokerOut);
            List<Principal> written = new java.util.ArrayList<>();
            Principal workers;
            Principal keyBroker;
            try {
                workers = principal(out.resolve(WORKER_FILE), names.workerUser(), "the workers'");
                keyBroker = principal(keyBrokerOut.resolve(KEY_BROKER_FILE), KafkaNames.KEY_BROKER_USER, "the key broker's");
                // each password is on disk before its principal has it: a failure never strands a service
                for (Principal p : List.of(workers, keyBroker)) {
                    if (!p.existed()) {
                        p.credentials().write(p.file());
                        written.add(p);
                    }
                }
            } catch (Refused | RuntimeException e) {
                deleteAll(written);
                System.err.println("sealstream workers provision: " + e.getMessage());
                return 2;
            }
            try (ClientProvisioner p = options.provisioner(admin, topics.partitions)) {
                if (waitForBrokersSeconds > 0) {
                    p.awaitBrokers(java.time.Duration.ofSeconds(waitForBrokersSeconds));
                }
                p.provisionWorkers(workers.credentials());
                written.remove(workers); // the cluster has this password now: its file must stay
                p.provisionKeyBroker(keyBroker.credentials());
                written.remove(keyBroker);
            } catch (RuntimeException e) {
                deleteAll(written);
                System.err.println("sealstream workers provision: " + e.getMessage());
                return 1;
            }
            System.out.println("services provisioned");
            System.out.println("  workers       User:" + names.workerUser() + " (ACLs of docs/tenancy.md)");
            System.out.println("  dead letters  " + names.dlqTopic());
            System.out.println("  credentials   " + workers.file() + " (owner-only; the workers' kafka.credentials.file)");
            System.out.println("  key broker    User:" + KafkaNames.KEY_BROKER_USER + " (appends to and reads the audit "
                    + "topic only)");
            System.out.println("  audit topic   " + KafkaNames.AUDIT_TOPIC);
            System.out.println("  credentials   " + keyBroker.file() + " (owner-only; the key broker's kafka.credentials.file)");
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
