package io.sealstream.cli.clients;

import io.sealstream.client.ConnectionFile;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientOnboarding;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.tenancy.KafkaNames;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sealstream clients add|list|remove}: tenant provisioning with the admin principal's
 * connection file ({@code sealstream up} writes {@code DATA_DIR/admin.connection});
 * {@code clients manifest|adopt}: the same for a Kafka cluster that Strimzi runs, whose operators
 * make the client's user and topics from the printed resources.
 */
@Command(name = "clients", mixinStandardHelpOptions = true,
        description = "Provision tenants: Kafka credentials, topics, ACLs, quotas and a connection file.",
        subcommands = {ClientsCommand.Add.class, ClientsCommand.ListClients.class, ClientsCommand.Remove.class,
                ClientsCommand.Manifest.class, ClientsCommand.Adopt.class})
public final class ClientsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every subcommand takes. */
    static final class AdminOptions {
        @Option(names = "--admin", required = true,
                description = "The admin principal's connection file ('sealstream up' writes DATA_DIR/admin.connection).")
        Path admin;

        ConnectionFile connection() {
            return ConnectionFile.read(admin);
        }

        /**
         * What a client's connection file starts from: the admin's, pinning the key broker's
         * transparency log key. An admin file written before the key broker first ran (compose's)
         * lacks it, so it is asked of the key broker; the client checks it against the broker's
         * evidence before it trusts anything, so a wrong answer here makes a client refuse, not trust.
         *
         * @throws IllegalStateException if the key broker cannot be asked
         */
        ConnectionFile clientTemplate(ConnectionFile admin) {
            if (admin.logKey() != null) {
                return admin;
            }
            try {
                return admin.withLogKey(new io.sealstream.keybroker.client.KeyBrokerClient(admin.keyBrokerUrl(),
                        java.time.Duration.ofSeconds(10)).logKey().publicKey());
            } catch (io.sealstream.keybroker.api.KeyBrokerException e) {
                throw new IllegalStateException("the admin connection pins no transparency log key and the key broker "
                        + "at " + admin.keyBrokerUrl() + " could not be asked for it (" + e.getMessage() + "); start the key "
                        + "broker first, or add " + ConnectionFile.LOG_KEY + " to " + admin, e);
            }
        }

        /** A provisioner that creates new topics with {@code partitions} (the others never create one). */
        ClientProvisioner provisioner(ConnectionFile c, int partitions) {
            Map<String, Object> config = new HashMap<>(c.kafkaSecurity().clientConfig());
            config.put("bootstrap.servers", c.bootstrapServers());
            return new ClientProvisioner(config, names(c), partitions);
        }

        ClientProvisioner provisioner(ConnectionFile c) {
            return provisioner(c, KafkaNames.DEFAULT_PARTITIONS);
        }

        KafkaNames names(ConnectionFile c) {
            return KafkaNames.DEFAULTS.withRequestTopicFamily(c.requestTopicFamily()).withPools(c.workerPools());
        }
    }

    /** A client's quota; each value unset is {@link ClientQuota#DEFAULT}'s. */
    static final class QuotaOptions {
        @Option(names = "--produce-bytes-per-s", description = "Quota on bytes the client may send per second.")
        Long produce;

        @Option(names = "--fetch-bytes-per-s", description = "Quota on bytes the client may read per second.")
        Long fetch;

        @Option(names = "--request-percent", description = "Quota on broker request time, percent of one thread.")
        Double requestPercent;

        ClientQuota quota() {
            ClientQuota d = ClientQuota.DEFAULT;
            return new ClientQuota(produce == null ? d.produceBytesPerSecond() : produce,
                    fetch == null ? d.fetchBytesPerSecond() : fetch,
                    requestPercent == null ? d.requestPercentage() : requestPercent);
        }
    }

    /** The two files a client gets, in {@code out}; the first of them that exists, which is never replaced. */
    record ClientFiles(Path connection, Path credentials) {
        static ClientFiles in(Path out, String clientId) {
            return new ClientFiles(out.resolve(clientId + ".connection"), out.resolve(clientId + ".credentials"));
        }

        java.util.Optional<Path> existing() {
            return java.util.stream.Stream.of(connection, credentials)
                    .filter(f -> Files.exists(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)).findFirst();
        }
    }

    /** Why {@code name} cannot be a client id, or empty if it can. */
    static java.util.Optional<String> idRefusal(String name) {
        return KafkaNames.isProvisionableClientId(name) ? java.util.Optional.empty() : java.util.Optional.of("'" + name
                + "' cannot be a client id: use letters, digits, '_' or '-', and do not start with '"
                + KafkaNames.RESERVED_PREFIX + "'");
    }

    /** The partitions of topics a subcommand creates. */
    static final class PartitionsOption {
        @Option(names = "--partitions", defaultValue = "" + KafkaNames.DEFAULT_PARTITIONS,
                description = "Partitions of the first client's topics, the most workers that can share the load; later "
                        + "clients get what the others have, as the workers need one count for every request topic "
                        + "(default ${DEFAULT-VALUE}).")
        int partitions;
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Create a client: SCRAM credentials, request and response topics, ACLs, quota; write "
                    + "NAME.connection and the owner-only NAME.credentials.")
    static final class Add implements Callable<Integer> {
        @Mixin
        AdminOptions options;

        @Mixin
        PartitionsOption topics;

        @Parameters(index = "0", description = "Client id: letters, digits, '_' or '-'.")
        String name;

        @Option(names = "--out", defaultValue = ".", description = "Where to write the two files (default: here).")
        Path out;

        @Mixin
        QuotaOptions quotaOptions;

        @Option(names = "--reuse-topics", description = "Take over topics an earlier client of this id left, with "
                + "what they hold (refused otherwise).")
        boolean reuseTopics;

        @Override
        public Integer call() throws Exception {
            if (idRefusal(name).isPresent()) {
                System.err.println("sealstream clients add: " + idRefusal(name).get());
                return 2;
            }
            ClientQuota quota = quotaOptions.quota();
            ConnectionFile admin;
            try {
                admin = options.clientTemplate(options.connection());
            } catch (IllegalStateException e) {
                System.err.println("sealstream clients add: " + e.getMessage());
                return 1;
            }
            Files.createDirectories(out);
            ClientFiles files = ClientFiles.in(out, name);
            Path connection = files.connection();
            Path credentialsFile = files.credentials();
            if (files.existing().isPresent()) {
                System.err.println("sealstream clients add: " + files.existing().get() + " exists; move it away or choose "
                        + "another --out");
                return 2;
            }
            // the password is on disk before the principal exists: a failure can never strand a client
            ClientCredentials credentials = ClientCredentials.generate(name);
            credentials.write(credentialsFile);
            try (ClientProvisioner p = options.provisioner(admin, topics.partitions)) {
                ClientOnboarding.add(p, admin.schemaRegistryUrl(), options.names(admin), credentials, quota, reuseTopics);
            } catch (RuntimeException e) {
                Files.deleteIfExists(credentialsFile);
                System.err.println("sealstream clients add: " + e.getMessage());
                return 1;
            }
            admin.withCredentials(credentialsFile).write(connection);
            PrintStream o = System.out;
            o.println("client " + name + " added");
            o.println("  topics        " + String.join(", ", options.names(admin).requestTopics(name)) + " -> "
                    + options.names(admin).responseTopic(name));
            o.printf("  quota         %d B/s in, %d B/s out, %.0f %% of a broker thread%n", quota.produceBytesPerSecond(),
                    quota.fetchBytesPerSecond(), quota.requestPercentage());
            o.println("  connection    " + connection);
            o.println("  credentials   " + credentialsFile + " (owner-only; hand both files to the client, nothing else)");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List clients with credentials.")
    static final class ListClients implements Callable<Integer> {
        @Mixin
        AdminOptions options;

        @Override
        public Integer call() {
            ConnectionFile admin = options.connection();
            List<ClientProvisioner.ProvisionedClient> clients;
            try (ClientProvisioner p = options.provisioner(admin)) {
                clients = p.listClients();
            }
            PrintStream o = System.out;
            o.printf("%-24s %-8s %-8s %5s  %s%n", "client", "request", "response", "acls", "quota (in B/s, out B/s, %)");
            for (var c : clients) {
                o.printf("%-24s %-8s %-8s %5d  %s%n", c.clientId(), c.requestTopicExists() ? "yes" : "MISSING",
                        c.responseTopicExists() ? "yes" : "MISSING", c.aclCount(), c.quota() == null ? "none"
                                : c.quota().produceBytesPerSecond() + ", " + c.quota().fetchBytesPerSecond() + ", "
                                + c.quota().requestPercentage());
            }
            o.println(clients.size() + " client(s)");
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Delete a client's credentials, ACLs and quota; its topics stay unless --delete-topics.")
    static final class Remove implements Callable<Integer> {
        @Mixin
        AdminOptions options;

        @Parameters(index = "0", description = "Client id.")
        String name;

        @Option(names = "--delete-topics", description = "Also delete its request and response topics and what they hold.")
        boolean deleteTopics;

        @Override
        public Integer call() {
            ConnectionFile admin = options.connection();
            ClientProvisioner.Removal r;
            try (ClientProvisioner p = options.provisioner(admin)) {
                r = ClientOnboarding.remove(p, admin.schemaRegistryUrl(), name, deleteTopics);
            }
            PrintStream o = System.out;
            if (!r.hadCredentials() && r.aclsDeleted() == 0) {
                o.println("client " + name + " had no credentials and no ACLs; nothing to remove");
                return deleteTopics ? 0 : 1;
            }
            o.println("client " + name + " removed: credentials deleted, " + r.aclsDeleted()
                    + " ACLs deleted, quota cleared; it can no longer log in, and open connections lose access at once");
            o.println(deleteTopics ? "  its topics are deleted"
                    : "  its topics stay: requests still queued are answered into a response topic only an operator "
                    + "can read, until retention deletes them; 'clients remove " + name + " --delete-topics' deletes them now");
            return 0;
        }
    }

    @Command(name = "manifest", mixinStandardHelpOptions = true,
            description = "Print a client as Strimzi resources, for a cluster Strimzi runs: its KafkaUser (ACLs, quota; "
                    + "Strimzi makes the password) and KafkaTopics. Then 'clients adopt' writes its files.")
    static final class Manifest implements Callable<Integer> {
        @Mixin
        StrimziOptions strimzi;

        @Parameters(index = "0", description = "Client id: lower-case letters, digits or '-' (also a Kubernetes name).")
        String name;

        @Mixin
        QuotaOptions quotaOptions;

        @Override
        public Integer call() {
            try {
                ClientQuota quota = quotaOptions.quota();
                System.out.print(StrimziOptions.yaml("sealstream clients manifest " + name + " --cluster " + strimzi.cluster
                        + " --partitions " + strimzi.partitions + " --replicas " + strimzi.replicas,
                        strimzi.resources().client(name, quota)));
                return 0;
            } catch (IllegalArgumentException e) {
                System.err.println("sealstream clients manifest: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "adopt", mixinStandardHelpOptions = true,
            description = "Finish a client whose Kafka user and topics Strimzi made ('clients manifest'): register its "
                    + "topics' schemas and write NAME.connection and the owner-only NAME.credentials with the password "
                    + "from the client's Secret.")
    static final class Adopt implements Callable<Integer> {
        /** How long a new client's credential may take to reach every broker after Strimzi set it. */
        private static final java.time.Duration ADOPT_LOGIN_WAIT = java.time.Duration.ofSeconds(15);

        @Mixin
        AdminOptions options;

        @Parameters(index = "0", description = "Client id, the KafkaUser's name.")
        String name;

        @Option(names = "--password-file", required = true, description = "Owner-only file with the password alone: "
                + "the 'password' key of the Secret Strimzi wrote for the client.")
        Path passwordFile;

        @Option(names = "--out", defaultValue = ".", description = "Where to write the two files (default: here).")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (idRefusal(name).isPresent()) {
                System.err.println("sealstream clients adopt: " + idRefusal(name).get());
                return 2;
            }
            ConnectionFile admin;
            try {
                admin = options.clientTemplate(options.connection());
            } catch (IllegalStateException e) {
                System.err.println("sealstream clients adopt: " + e.getMessage());
                return 1;
            }
            ClientFiles files = ClientFiles.in(out, name);
            Path connection = files.connection();
            Path credentialsFile = files.credentials();
            if (files.existing().isPresent()) {
                System.err.println("sealstream clients adopt: " + files.existing().get() + " exists; move it away or "
                        + "choose another --out");
                return 2;
            }
            ClientCredentials credentials;
            try (ClientProvisioner p = options.provisioner(admin)) {
                credentials = ClientCredentials.withPasswordFile(name, passwordFile);
                // a password that is not the client's (a typo, another tenant's) would give it files that never work
                p.awaitLogin(credentials, ADOPT_LOGIN_WAIT, "with that password: it is not the one Strimzi set for "
                        + name + ", or Strimzi has not set it yet; copy it from the client's Secret again");
                ClientOnboarding.registerSchemas(admin.schemaRegistryUrl(), options.names(admin), name);
            } catch (RuntimeException e) {
                System.err.println("sealstream clients adopt: " + e.getMessage());
                return 1;
            }
            Files.createDirectories(out);
            credentials.write(credentialsFile);
            admin.withCredentials(credentialsFile).write(connection);
            System.out.println("client " + name + " adopted: schemas registered");
            System.out.println("  connection    " + connection);
            System.out.println("  credentials   " + credentialsFile + " (owner-only; hand both files to the client)");
            return 0;
        }
    }
}
