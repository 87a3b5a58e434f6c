package io.sealstream.tenancy;

import io.sealstream.envelope.EnvelopeProtocol;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Every ACL a Sealstream deployment grants, and nothing else: the broker denies whatever no row
 * allows ({@code allow.everyone.if.no.acl.found=false}). Provisioning ({@link ClientProvisioner}),
 * docs/tenancy.md and deployment manifests all derive from {@link #RULES}.
 *
 * <p>Client rows are LITERAL: a client's principal reaches its own two topics and its own group,
 * never a prefix another client's names could fall under. Worker rows may be PREFIXED: workers
 * serve every client. Resource names are templates over {@link KafkaNames}: {@code {family}},
 * {@code {app}}, {@code {dlq}}, {@code {audit}}, {@code {client}}; a row that names {@code {family}} or {@code {app}}
 * is granted once per worker pool, with that pool's family and application id.
 */
public final class AclTable {
    /** Who a rule grants to. */
    public enum Grantee {
        /** The workers' principal ({@link KafkaNames#workerUser()}). */
        WORKER,
        /** One client's principal, {@code User:<client_id>}. */
        CLIENT,
        /**
         * The autoscaler's principal ({@link KafkaNames#autoscalerUser()}): reads the workers' lag,
         * and nothing else (a Kubernetes deployment's KEDA scaler).
         */
        AUTOSCALER,
        /** The key broker's principal ({@link KafkaNames#KEY_BROKER_USER}): appends to the audit topic. */
        KEY_BROKER
    }

    /**
     * One row: {@code grantee} may do {@code operation} on {@code type} resources named
     * {@code name} ({@code pattern} LITERAL or PREFIXED).
     */
    public record Rule(Grantee grantee, ResourceType type, PatternType pattern, String name, AclOperation operation,
                       String why) {
        public Rule {
            Objects.requireNonNull(grantee);
            Objects.requireNonNull(type);
            Objects.requireNonNull(name);
            Objects.requireNonNull(operation);
            if (grantee == Grantee.CLIENT && pattern != PatternType.LITERAL) {
                throw new IllegalArgumentException("client ACLs are LITERAL: " + name);
            }
        }
    }

    private static final String REQUESTS = "{family}.";
    private static final String RESPONSES = EnvelopeProtocol.RESPONSE_TOPIC_PREFIX;
    private static final String STREAMS = EnvelopeProtocol.STREAM_TOPIC_PREFIX;

    /** The table. */
    public static final List<Rule> RULES = List.of(
            worker(ResourceType.TOPIC, PatternType.PREFIXED, REQUESTS, AclOperation.READ, "consume every client's requests"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, REQUESTS, AclOperation.DESCRIBE, "find new request topics by pattern"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, RESPONSES, AclOperation.WRITE, "answer each client on its response topic"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, RESPONSES, AclOperation.DESCRIBE, "know which clients exist"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, RESPONSES, AclOperation.DESCRIBE_CONFIGS,
                    "read each response topic's max.message.bytes"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, STREAMS, AclOperation.WRITE,
                    "send the chunks of streamed answers as they are generated"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, STREAMS, AclOperation.DESCRIBE,
                    "know which clients can receive chunks"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, STREAMS, AclOperation.DESCRIBE_CONFIGS,
                    "find a client's stream topic in the topic directory, as its response topic"),
            worker(ResourceType.TOPIC, PatternType.LITERAL, "{dlq}", AclOperation.WRITE, "dead letters"),
            worker(ResourceType.TOPIC, PatternType.LITERAL, "{dlq}", AclOperation.DESCRIBE, "dead letters"),
            worker(ResourceType.TOPIC, PatternType.LITERAL, "{dlq}", AclOperation.DESCRIBE_CONFIGS,
                    "bound dead letters by the topic's max.message.bytes"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, "{app}-", AclOperation.CREATE, "Kafka Streams creates its changelog topics"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, "{app}-", AclOperation.READ, "restore state from changelogs"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, "{app}-", AclOperation.WRITE, "write changelogs"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, "{app}-", AclOperation.DESCRIBE, "validate changelogs"),
            worker(ResourceType.TOPIC, PatternType.PREFIXED, "{app}-", AclOperation.DESCRIBE_CONFIGS, "validate changelogs"),
            worker(ResourceType.GROUP, PatternType.LITERAL, "{app}", AclOperation.READ, "the workers' consumer group"),
            worker(ResourceType.GROUP, PatternType.LITERAL, "{app}", AclOperation.DESCRIBE, "the workers' consumer group"),
            worker(ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED, "{app}-", AclOperation.WRITE,
                    "exactly-once transactions"),
            worker(ResourceType.TRANSACTIONAL_ID, PatternType.PREFIXED, "{app}-", AclOperation.DESCRIBE,
                    "exactly-once transactions"),
            new Rule(Grantee.AUTOSCALER, ResourceType.TOPIC, PatternType.PREFIXED, REQUESTS, AclOperation.DESCRIBE,
                    "the end offsets of every request topic, for the workers' lag"),
            new Rule(Grantee.AUTOSCALER, ResourceType.GROUP, PatternType.LITERAL, "{app}", AclOperation.DESCRIBE,
                    "the workers' committed offsets, for their lag"),
            new Rule(Grantee.KEY_BROKER, ResourceType.TOPIC, PatternType.LITERAL, "{audit}", AclOperation.WRITE,
                    "append its audit events"),
            new Rule(Grantee.KEY_BROKER, ResourceType.TOPIC, PatternType.LITERAL, "{audit}", AclOperation.DESCRIBE,
                    "find the audit topic's partitions"),
            new Rule(Grantee.KEY_BROKER, ResourceType.TOPIC, PatternType.LITERAL, "{audit}", AclOperation.READ,
                    "find its chain's last event after a restart"),
            client(ResourceType.TOPIC, "{family}.{client}", AclOperation.WRITE, "send its own requests"),
            client(ResourceType.TOPIC, "{family}.{client}", AclOperation.DESCRIBE, "find its request topic's partitions"),
            client(ResourceType.TOPIC, RESPONSES + "{client}", AclOperation.READ, "read its own answers"),
            client(ResourceType.TOPIC, RESPONSES + "{client}", AclOperation.DESCRIBE, "find its response topic's partitions"),
            client(ResourceType.TOPIC, STREAMS + "{client}", AclOperation.READ, "read the chunks of its streamed answers"),
            client(ResourceType.TOPIC, STREAMS + "{client}", AclOperation.DESCRIBE, "find its stream topic's partitions"),
            client(ResourceType.GROUP, "{client}", AclOperation.READ, "its own consumer group, for its own consumers"),
            client(ResourceType.GROUP, "{client}", AclOperation.DESCRIBE, "its own consumer group, for its own consumers"));

    private AclTable() {
    }

    /** The workers' bindings in a deployment with these names. */
    public static List<AclBinding> workerBindings(KafkaNames names) {
        return bindings(Grantee.WORKER, names, null, names.workerUser());
    }

    /** The autoscaler's bindings: describe the request topics and the workers' group, to measure lag. */
    public static List<AclBinding> autoscalerBindings(KafkaNames names) {
        return bindings(Grantee.AUTOSCALER, names, null, names.autoscalerUser());
    }

    /** The key broker's bindings: the audit topic. */
    public static List<AclBinding> keyBrokerBindings(KafkaNames names) {
        return bindings(Grantee.KEY_BROKER, names, null, KafkaNames.KEY_BROKER_USER);
    }

    /** The bindings of client {@code clientId}, whose principal is {@code User:<clientId>}. */
    public static List<AclBinding> clientBindings(KafkaNames names, String clientId) {
        if (!KafkaNames.isProvisionableClientId(clientId)) {
            throw new IllegalArgumentException("'" + clientId + "' cannot be a client: use 1 to "
                    + EnvelopeProtocol.MAX_CLIENT_ID_LENGTH + " letters, digits, '_' or '-', not starting with '"
                    + KafkaNames.RESERVED_PREFIX + "'");
        }
        return bindings(Grantee.CLIENT, names, clientId, clientId);
    }

    private static List<AclBinding> bindings(Grantee grantee, KafkaNames names, String clientId, String user) {
        java.util.Set<AclBinding> out = new java.util.LinkedHashSet<>();
        for (String pool : names.pools()) {
            RULES.stream().filter(r -> r.grantee() == grantee).forEach(r -> out.add(binding(r, names, pool, clientId, user)));
        }
        return List.copyOf(out);
    }

    /** The Kafka principal of a SCRAM user. */
    public static String principal(String user) {
        return "User:" + user;
    }

    /** A rule's resource name for one pool of a deployment with these names ({@code clientId} for client rules). */
    public static String resourceName(Rule rule, KafkaNames names, String pool, String clientId) {
        String n = rule.name().replace("{family}", names.familyOf(pool))
                .replace("{app}", names.applicationIdOf(pool))
                .replace("{dlq}", names.dlqTopic())
                .replace("{audit}", KafkaNames.AUDIT_TOPIC);
        if (n.contains("{client}")) {
            n = n.replace("{client}", Objects.requireNonNull(clientId, "a client rule needs a client id"));
        }
        return n;
    }

    /**
     * The table as Markdown: principal, resource type, pattern, name template, operation, why.
     * docs/tenancy.md holds exactly this between its acl-table markers.
     */
    public static String markdown() {
        StringBuilder b = new StringBuilder("| principal | resource | pattern | name | operation | why |\n"
                + "|---|---|---|---|---|---|\n");
        for (Rule r : RULES) {
            b.append("| `User:{").append(r.grantee().name().toLowerCase(java.util.Locale.ROOT)).append("}`")
                    .append(" | ").append(r.type()).append(" | ").append(r.pattern()).append(" | `").append(r.name())
                    .append("` | ").append(r.operation()).append(" | ").append(r.why()).append(" |\n");
        }
        return b.toString().strip();
    }

    private static AclBinding binding(Rule r, KafkaNames names, String pool, String clientId, String user) {
        return new AclBinding(new ResourcePattern(r.type(), resourceName(r, names, pool, clientId), r.pattern()),
                new AccessControlEntry(principal(user), "*", r.operation(), AclPermissionType.ALLOW));
    }

    private static Rule worker(ResourceType type, PatternType pattern, String name, AclOperation op, String why) {
        return new Rule(Grantee.WORKER, type, pattern, name, op, why);
    }

    private static Rule client(ResourceType type, String name, AclOperation op, String why) {
        return new Rule(Grantee.CLIENT, type, PatternType.LITERAL, name, op, why);
    }
}
