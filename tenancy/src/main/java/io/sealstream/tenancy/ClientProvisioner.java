package io.sealstream.tenancy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.quota.ClientQuotaFilterComponent;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Provisions a deployment's principals through the Kafka admin API, as its admin principal: the
 * workers' SCRAM user and {@link AclTable} rows, and each client's SCRAM user, two topics, ACLs
 * and quota. Every step is idempotent except creating a client that exists, which is refused so
 * that an operator never replaces a tenant's password by accident.
 */
public final class ClientProvisioner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClientProvisioner.class);
    /** SCRAM-SHA-512 iterations of every credential this class sets (Kafka's minimum is 4,096). */
    public static final int SCRAM_ITERATIONS = 8192;
    /**
     * Response topics take 8 MiB records: the answer to the largest embeddings request (2,048
     * MiniLM vectors, about 3.2 MB) fits; the broker's 1 MiB default would not. Workers read the
     * limit from the topic (docs/operations.md, "Limits").
     */
    public static final Map<String, String> RESPONSE_TOPIC_CONFIG = Map.of(
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(8 << 20));
    /**
     * A stream topic holds previews: a chunk is worth nothing once its answer is in, so an hour
     * covers any answer, and a chunk is small.
     */
    public static final Map<String, String> STREAM_TOPIC_CONFIG = Map.of(
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(1 << 20),
            TopicConfig.RETENTION_MS_CONFIG, Long.toString(3_600_000L));
    private static final long TIMEOUT_S = 30;

    /** How long a new credential may take to reach every broker before provisioning gives up. */
    private static final long LOGIN_PROPAGATION_S = 60;

    private final Map<String, Object> adminConfig;
    private final Admin admin;
    private final KafkaNames names;
    private final int partitions;

    /**
     * @param adminClientConfig bootstrap servers and the admin principal's security settings
     * @param names the deployment's names
     * @param partitions partitions of each new topic: the most workers that can share the load
     */
    public ClientProvisioner(Map<String, Object> adminClientConfig, KafkaNames names, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("topics need at least one partition, got " + partitions);
        }
        this.adminConfig = Map.copyOf(adminClientConfig);
        this.admin = Admin.create(adminClientConfig);
        this.names = Objects.requireNonNull(names, "names");
        this.partitions = partitions;
    }

    /** The admin connection's settings (bootstrap servers and security), for the audit topic's writer. */
    public Map<String, Object> adminConfig() {
        return adminConfig;
    }

    /**
     * Waits until the cluster has as many brokers as its {@code default.replication.factor}, the
     * replicas every topic the provisioner creates needs: a cluster whose nodes are still starting
     * (a compose or Kubernetes deployment) refuses such topics until then.
     *
     * @throws IllegalStateException if it has too few after {@code timeout}
     */
    public void awaitBrokers(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMs = 200;
        String last = "no answer yet";
        while (true) {
            try {
                Collection<Node> brokers = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                var resource = new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.BROKER, brokers.iterator().next().idString());
                var config = admin.describeConfigs(List.of(resource)).all().get(5, TimeUnit.SECONDS).get(resource);
                int needed = Integer.parseInt(config.get("default.replication.factor").value());
                if (brokers.size() >= needed) {
                    LOG.info("tenancy.brokers_ready brokers={} replication_factor={}", brokers.size(), needed);
                    return;
                }
                last = brokers.size() + " of the " + needed + " brokers default.replication.factor needs";
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                last = (e instanceof ExecutionException ? e.getCause() : e).getClass().getSimpleName();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("wait for the cluster's brokers", e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the cluster did not have its brokers within " + timeout.toSeconds()
                        + " s (last: " + last + "); check that every Kafka node runs and that the admin connection's "
                        + "bootstrap servers reach them");
            }
            sleep(pauseMs, "wait for the cluster's brokers");
            pauseMs = Math.min(2_000, pauseMs * 2);
        }
    }

    /**
     * Grants the workers' rows of {@link AclTable}, creates the dead-letter topic and last makes
     * the workers' principal log in with {@code credentials} (so a worker that can log in finds
     * its ACLs in place), once every broker accepts it.
     */
    public void provisionWorkers(ClientCredentials credentials) {
        provisionService("the workers'", names.workerUser(), credentials, AclTable.workerBindings(names),
                this::createDeadLetterTopic);
    }

    /**
     * Creates a client whose principal is {@code credentials}' user: its request topics (one per
     * worker pool) and response topic, its {@link AclTable} rows, {@code quota}, and last its SCRAM
     * credential, so a client that can log in finds everything it may use in place, and a failure
     * before the last step leaves no principal behind (the caller keeps the password it generated
     * and can simply run again).
     *
     * @param reuseTopics whether topics left by an earlier client of this id (a removal without
     *     deleting them) may be taken over with what they hold; otherwise their existence is refused
     * @throws IllegalStateException if the client exists, its principal already has ACLs (another
     *     principal of this cluster), or its topics exist and {@code reuseTopics} is false
     */
    public void addClient(ClientCredentials credentials, ClientQuota quota, boolean reuseTopics) {
        Objects.requireNonNull(quota, "quota");
        String clientId = credentials.username();
        var bindings = AclTable.clientBindings(names, clientId); // validates the id
        if (scramUsers().contains(clientId)) {
            throw new IllegalStateException("client '" + clientId + "' exists; 'sealstream clients remove " + clientId
                    + "' first to replace its credentials");
        }
        int held = await(admin.describeAcls(principalFilter(clientId)).values(), "describe ACLs of " + clientId).size();
        if (held > 0) {
            throw new IllegalStateException("principal User:" + clientId + " already holds " + held + " ACLs that "
                    + "provisioning did not grant it (another principal of this cluster?); choose another client id");
        }
        if (!reuseTopics) {
            Set<String> existing = await(admin.listTopics().names(), "list topics");
            List<String> left = clientTopics(clientId).stream().filter(existing::contains).toList();
            if (!left.isEmpty()) {
                throw new IllegalStateException("topics " + left + " exist (left by an earlier client of this id?); "
                        + "delete them with 'sealstream clients remove " + clientId + " --delete-topics' or take "
                        + "them over with --reuse-topics");
            }
        }
        createClientTopics(clientId);
        await(admin.createAcls(bindings).all(), "grant the ACLs of " + clientId);
        setQuota(clientId, quota);
        await(admin.alterUserScramCredentials(List.of(upsert(credentials))).all(), "set the credentials of " + clientId);
        awaitLoginOnEveryBroker(credentials);
        LOG.info("tenancy.client_added client={} acls={} produce_bps={} fetch_bps={} request_pct={}", clientId,
                bindings.size(), quota.produceBytesPerSecond(), quota.fetchBytesPerSecond(), quota.requestPercentage());
    }

    private List<String> clientTopics(String clientId) {
        List<String> topics = new java.util.ArrayList<>(names.requestTopics(clientId));
        topics.add(names.responseTopic(clientId));
        topics.add(names.streamTopic(clientId));
        return topics;
    }

    /**
     * Creates {@code clientId}'s request, response and stream topics unless they exist; alone, only
     * for a PLAINTEXT benchmark broker, which has no principals to give them to.
     */
    public void createClientTopics(String clientId) {
        int n = requestTopicPartitions();
        List<NewTopic> topics = new java.util.ArrayList<>();
        names.requestTopics(clientId).forEach(t -> topics.add(new NewTopic(t, n, (short) -1)));
        topics.add(new NewTopic(names.responseTopic(clientId), n, (short) -1).configs(RESPONSE_TOPIC_CONFIG));
        topics.add(new NewTopic(names.streamTopic(clientId), n, (short) -1).configs(STREAM_TOPIC_CONFIG));
        createTopics(topics);
    }

    /**
     * The partitions every request topic must have: those the deployment's request topics already
     * have, or the configured count for the first client. Kafka Streams makes one task per partition
     * number across all of a pool's request topics and sizes its changelogs once; a request topic
     * with more partitions than the rest would stop every worker of the pool (for every tenant)
     * until it is deleted.
     */
    private int requestTopicPartitions() {
        Set<String> all = await(admin.listTopics().names(), "list topics");
        List<String> existing = all.stream().filter(t -> names.pools().stream().map(names::familyOf)
                .anyMatch(f -> io.sealstream.envelope.EnvelopeProtocol.clientOfRequestTopic(f, t).isPresent()))
                .sorted().toList();
        if (existing.isEmpty()) {
            return partitions;
        }
        var described = await(admin.describeTopics(existing.subList(0, Math.min(existing.size(), 50))).allTopicNames(),
                "describe request topics");
        Set<Integer> counts = new java.util.TreeSet<>();
        described.values().forEach(d -> counts.add(d.partitions().size()));
        if (counts.size() > 1) {
            throw new IllegalStateException("request topics have differing partition counts " + counts
                    + "; the workers cannot serve them together: fix the odd ones before adding clients");
        }
        int n = counts.iterator().next();
        if (n != partitions) {
            LOG.info("tenancy.partitions_followed configured={} existing={}", partitions, n);
        }
        return n;
    }

    /**
     * Grants the key broker's rows of {@link AclTable}, creates the audit topic, sets its quota
     * ({@link ClientQuota#KEY_BROKER}) and last the key broker's SCRAM credential, once every broker
     * accepts it.
     */
    public void provisionKeyBroker(ClientCredentials credentials) {
        provisionService("the key broker's", KafkaNames.KEY_BROKER_USER, credentials, AclTable.keyBrokerBindings(names),
                () -> {
                    createAuditTopic();
                    setQuota(KafkaNames.KEY_BROKER_USER, ClientQuota.KEY_BROKER);
                });
    }

    /**
     * A service's principal ({@code whose}, e.g. "the workers'"): its ACLs, its topic, then its
     * credential, once every broker accepts it.
     */
    private void provisionService(String whose, String user, ClientCredentials credentials, List<AclBinding> bindings,
                                  Runnable topic) {
        if (!credentials.username().equals(user)) {
            throw new IllegalArgumentException(whose + " principal is '" + user + "', not '" + credentials.username() + "'");
        }
        await(admin.createAcls(bindings).all(), "grant " + whose + " ACLs");
        topic.run();
        await(admin.alterUserScramCredentials(List.of(upsert(credentials))).all(), "set " + whose + " credentials");
        awaitLoginOnEveryBroker(credentials);
        LOG.info("tenancy.service_provisioned user={} acls={}", user, bindings.size());
    }

    /**
     * Creates the audit topic unless it exists: one partition (every chain in one order) kept
     * forever (a chain is checked from its first event; deleting old segments would break it).
     */
    public void createAuditTopic() {
        createTopics(List.of(new NewTopic(KafkaNames.AUDIT_TOPIC, 1, (short) -1).configs(AUDIT_TOPIC_CONFIG)));
    }

    /** The audit topic's settings: nothing expires and nothing is compacted. */
    public static final Map<String, String> AUDIT_TOPIC_CONFIG = Map.of(
            TopicConfig.RETENTION_MS_CONFIG, "-1",
            TopicConfig.RETENTION_BYTES_CONFIG, "-1",
            TopicConfig.CLEANUP_POLICY_CONFIG, "delete");

    /** Creates the dead-letter topic unless it exists; {@link #provisionWorkers} does this too. */
    public void createDeadLetterTopic() {
        createTopics(List.of(new NewTopic(names.dlqTopic(), partitions, (short) -1)));
    }

    /** Sets {@code clientId}'s quota. */
    public void setQuota(String clientId, ClientQuota quota) {
        List<ClientQuotaAlteration.Op> ops = quota.asKafkaQuotas().entrySet().stream()
                .map(e -> new ClientQuotaAlteration.Op(e.getKey(), e.getValue())).toList();
        await(admin.alterClientQuotas(List.of(new ClientQuotaAlteration(ClientQuota.entityOf(clientId), ops))).all(),
                "set the quota of " + clientId);
    }

    /** A provisioned client as the cluster sees it. */
    public record ProvisionedClient(String clientId, boolean requestTopicExists, boolean responseTopicExists,
                                    int aclCount, ClientQuota quota) {
    }

    /** Every client with credentials, by id. */
    public List<ProvisionedClient> listClients() {
        Set<String> topics = await(admin.listTopics().names(), "list topics");
        List<ProvisionedClient> out = new ArrayList<>();
        for (String user : scramUsers().stream().sorted().toList()) {
            if (!KafkaNames.isProvisionableClientId(user)) {
                continue;
            }
            int acls = await(admin.describeAcls(principalFilter(user)).values(), "describe ACLs of " + user).size();
            var quotas = await(admin.describeClientQuotas(ClientQuotaFilter.containsOnly(
                    List.of(ClientQuotaFilterComponent.ofEntity(org.apache.kafka.common.quota.ClientQuotaEntity.USER, user))))
                    .entities(), "describe the quota of " + user);
            Map<String, Double> q = quotas.getOrDefault(ClientQuota.entityOf(user), Map.of());
            out.add(new ProvisionedClient(user, topics.containsAll(names.requestTopics(user)),
                    topics.contains(names.responseTopic(user)), acls, q.isEmpty() ? null : ClientQuota.fromKafkaQuotas(q)));
        }
        return out;
    }

    /** What {@link #removeClient} did. */
    public record Removal(String clientId, boolean hadCredentials, int aclsDeleted, boolean topicsDeleted) {
    }

    /**
     * Removes {@code clientId}'s credentials, ACLs and quota, so it can neither log in nor, on a
     * connection already open, touch a topic. Its topics stay unless {@code deleteTopics}: answers
     * still on the response topic can be read by an operator, and requests still queued are
     * answered by the workers into a topic nobody can read until the retention deletes them.
     */
    public Removal removeClient(String clientId, boolean deleteTopics) {
        if (!KafkaNames.isProvisionableClientId(clientId)) {
            throw new IllegalArgumentException("'" + clientId + "' is not a client id");
        }
        boolean had = scramUsers().contains(clientId);
        if (had) {
            await(admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(clientId,
                    ScramMechanism.SCRAM_SHA_512))).all(), "delete the credentials of " + clientId);
        }
        int deleted = await(admin.deleteAcls(List.of(principalFilter(clientId))).all(), "delete the ACLs of " + clientId)
                .size();
        List<ClientQuotaAlteration.Op> clear = ClientQuota.DEFAULT.asKafkaQuotas().keySet().stream()
                .map(k -> new ClientQuotaAlteration.Op(k, null)).toList();
        await(admin.alterClientQuotas(List.of(new ClientQuotaAlteration(ClientQuota.entityOf(clientId), clear))).all(),
                "clear the quota of " + clientId);
        if (deleteTopics) {
            try {
                admin.deleteTopics(clientTopics(clientId)).all()
                        .get(TIMEOUT_S, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw failure("delete the topics of " + clientId, e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("delete the topics of " + clientId, e);
            } catch (TimeoutException e) {
                throw failure("delete the topics of " + clientId, e);
            }
        }
        LOG.info("tenancy.client_removed client={} credentials={} acls_deleted={} topics_deleted={}", clientId, had,
                deleted, deleteTopics);
        return new Removal(clientId, had, deleted, deleteTopics);
    }

    private static AclBindingFilter principalFilter(String user) {
        return new AclBindingFilter(ResourcePatternFilter.ANY, new AccessControlEntryFilter(AclTable.principal(user), null,
                AclOperation.ANY, AclPermissionType.ANY));
    }

    private Set<String> scramUsers() {
        try {
            return Set.copyOf(admin.describeUserScramCredentials().users().get(TIMEOUT_S, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ResourceNotFoundException) {
                return Set.of();
            }
            throw failure("list SCRAM users", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure("list SCRAM users", e);
        } catch (TimeoutException e) {
            throw failure("list SCRAM users", e);
        }
    }

    /**
     * Returns once every broker lets {@code credentials} log in. The controller commits a new
     * credential, and each broker applies it when it replays the metadata log, moments later; a
     * client that dials a broker in between fails with an authentication error, which Kafka's
     * clients treat as final. ACLs, topics and the quota precede the credential in the log, so a
     * broker that knows the credential knows them too.
     */
    private void awaitLoginOnEveryBroker(ClientCredentials credentials) {
        awaitLogin(credentials, java.time.Duration.ofSeconds(LOGIN_PROPAGATION_S), "of setting its credential: that "
                + "broker has not applied it (is it following the controllers' metadata log?); everything else is "
                + "provisioned, and logins there work once it catches up");
    }

    /**
     * Returns once every broker lets {@code credentials} log in, retrying SCRAM refusals for up to
     * {@code within} (a credential another tool set may still be on its way to a broker); then
     * fails, saying {@code refusedMeans}.
     */
    public void awaitLogin(ClientCredentials credentials, java.time.Duration within, String refusedMeans) {
        if (!"SASL_SSL".equals(String.valueOf(adminConfig.get(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG)))) {
            return; // a PLAINTEXT benchmark broker has no logins
        }
        Collection<Node> brokers = await(admin.describeCluster().nodes(), "list the brokers");
        long deadline = System.nanoTime() + within.toNanos();
        for (Node broker : brokers) {
            Map<String, Object> probe = new HashMap<>(adminConfig);
            // bootstrapping from this broker alone: the first request logs in there
            probe.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.host() + ":" + broker.port());
            probe.put(SaslConfigs.SASL_JAAS_CONFIG, KafkaSecurity.jaasConfig(credentials));
            probe.put(CommonClientConfigs.CLIENT_ID_CONFIG, "sealstream-provisioner-login-check");
            String what = "log in as " + credentials.username() + " on broker " + broker.id();
            long pauseMs = 100;
            while (true) {
                Throwable refused;
                try (Admin a = Admin.create(probe)) {
                    a.describeCluster().clusterId().get(TIMEOUT_S, TimeUnit.SECONDS);
                    break;
                } catch (ExecutionException e) {
                    refused = e.getCause();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw failure(what, e);
                } catch (TimeoutException e) {
                    throw new IllegalStateException("could not " + what + " within " + TIMEOUT_S + " s; check that the "
                            + "broker runs and is reachable at " + broker.host() + ":" + broker.port(), e);
                }
                // only a SCRAM refusal can be the credential not yet applied; a TLS failure (wrong CA or host
                // name) or anything else will not mend by waiting
                if (!(refused instanceof SaslAuthenticationException)) {
                    throw new IllegalStateException("could not " + what + " (" + refused.getClass().getSimpleName() + ": "
                            + refused.getMessage() + "); check the admin connection's CA and the broker's address", refused);
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not " + what + " within " + within.toSeconds() + " s "
                            + refusedMeans, refused);
                }
                sleep(pauseMs, what);
                pauseMs = Math.min(2_000, pauseMs * 2);
            }
        }
    }

    private static void sleep(long ms, String what) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure(what, e);
        }
    }

    private static UserScramCredentialUpsertion upsert(ClientCredentials c) {
        return new UserScramCredentialUpsertion(c.username(), new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512,
                SCRAM_ITERATIONS), c.password());
    }

    private void createTopics(Collection<NewTopic> topics) {
        for (var f : admin.createTopics(topics).values().entrySet()) {
            try {
                f.getValue().get(TIMEOUT_S, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw failure("create topic " + f.getKey(), e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failure("create topic " + f.getKey(), e);
            } catch (TimeoutException e) {
                throw failure("create topic " + f.getKey(), e);
            }
        }
    }

    private static <T> T await(KafkaFuture<T> f, String what) {
        try {
            return f.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw failure(what, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failure(what, e);
        } catch (TimeoutException e) {
            throw failure(what, e);
        }
    }

    private static IllegalStateException failure(String what, Throwable cause) {
        return new IllegalStateException("could not " + what + " (" + cause.getClass().getSimpleName()
                + "); check that the admin principal is a super user and the cluster is reachable", cause);
    }

    @Override
    public void close() {
        admin.close();
    }
}
