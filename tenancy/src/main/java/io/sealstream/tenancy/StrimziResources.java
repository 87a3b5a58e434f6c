package io.sealstream.tenancy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;

/**
 * The {@link AclTable} and {@link ClientProvisioner}'s topics as Strimzi custom resources
 * ({@code kafka.strimzi.io/v1} {@code KafkaUser} and {@code KafkaTopic}), for a Kubernetes
 * deployment whose Kafka cluster Strimzi runs: the same principals, rows, quotas and topic settings
 * as provisioning by the admin client, rendered instead of granted. Each resource is a tree of
 * ordered maps, ready for a YAML writer.
 *
 * @param cluster the Strimzi {@code Kafka} resource's name ({@code strimzi.io/cluster} label)
 * @param names the deployment's Kafka names
 * @param partitions partitions of every request topic: the most workers that can share the load
 *     (and a KEDA scaler's {@code maxReplicaCount})
 * @param replicas replicas of every topic
 */
public record StrimziResources(String cluster, KafkaNames names, int partitions, int replicas) {
    /** Strimzi's API group and version of the resources rendered here. */
    public static final String API_VERSION = "kafka.strimzi.io/v1";
    /** A Kubernetes object name (RFC 1123 subdomain), which a Strimzi KafkaUser's name also is. */
    private static final Pattern OBJECT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

    public StrimziResources {
        Objects.requireNonNull(names, "names");
        if (cluster == null || !OBJECT_NAME.matcher(cluster).matches()) {
            throw new IllegalArgumentException("the Strimzi cluster name must be a Kubernetes name (lower-case letters, "
                    + "digits, '-' and '.'), got '" + cluster + "'");
        }
        if (partitions < 1 || replicas < 1) {
            throw new IllegalArgumentException("topics need at least one partition and one replica, got " + partitions
                    + " and " + replicas);
        }
    }

    /**
     * The workers' KafkaUser, the autoscaler's, the dead-letter topic, the key broker's KafkaUser and
     * the audit topic: what {@code workers provision} does.
     */
    public List<Map<String, Object>> workers() {
        return List.of(user(names.workerUser(), AclTable.workerBindings(names), null),
                user(names.autoscalerUser(), AclTable.autoscalerBindings(names), null),
                topic(names.dlqTopic(), Map.of()),
                user(KafkaNames.KEY_BROKER_USER, AclTable.keyBrokerBindings(names), ClientQuota.KEY_BROKER),
                topic(KafkaNames.AUDIT_TOPIC, 1, new java.util.TreeMap<>(ClientProvisioner.AUDIT_TOPIC_CONFIG)));
    }

    /**
     * Client {@code clientId}'s KafkaUser (its ACL rows and {@code quota}) and topics: what
     * {@code clients add} does, except the password, which Strimzi's user operator generates into a
     * Secret of the client's name.
     *
     * @throws IllegalArgumentException if the id is not a client id, or not also a Kubernetes name
     *     (Strimzi names the SCRAM user after its resource)
     */
    public List<Map<String, Object>> client(String clientId, ClientQuota quota) {
        List<AclBinding> bindings = AclTable.clientBindings(names, clientId);
        if (!OBJECT_NAME.matcher(clientId).matches()) {
            throw new IllegalArgumentException("under Strimzi a client id is also a Kubernetes name: use lower-case "
                    + "letters, digits and '-' for '" + clientId + "'");
        }
        if (quota.requestPercentage() != Math.rint(quota.requestPercentage())) {
            throw new IllegalArgumentException("Strimzi takes a whole request percentage, got " + quota.requestPercentage());
        }
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(user(clientId, bindings, quota));
        names.requestTopics(clientId).forEach(t -> out.add(topic(t, Map.of())));
        out.add(topic(names.responseTopic(clientId), new java.util.TreeMap<>(ClientProvisioner.RESPONSE_TOPIC_CONFIG)));
        out.add(topic(names.streamTopic(clientId), new java.util.TreeMap<>(ClientProvisioner.STREAM_TOPIC_CONFIG)));
        return out;
    }

    private Map<String, Object> user(String user, List<AclBinding> bindings, ClientQuota quota) {
        // one rule per resource, its operations in the table's order
        Map<ResourcePattern, List<String>> byResource = new LinkedHashMap<>();
        bindings.forEach(b -> byResource.computeIfAbsent(b.pattern(), p -> new ArrayList<>())
                .add(operation(b.entry().operation())));
        List<Map<String, Object>> acls = new ArrayList<>();
        byResource.forEach((pattern, operations) -> {
            Map<String, Object> resource = new LinkedHashMap<>();
            resource.put("type", resourceType(pattern));
            resource.put("name", pattern.name());
            resource.put("patternType", pattern.patternType() == PatternType.PREFIXED ? "prefix" : "literal");
            Map<String, Object> rule = new LinkedHashMap<>();
            rule.put("type", "allow");
            rule.put("resource", resource);
            rule.put("operations", List.copyOf(operations));
            rule.put("host", "*");
            acls.add(rule);
        });
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("authentication", Map.of("type", "scram-sha-512"));
        Map<String, Object> authorization = new LinkedHashMap<>();
        authorization.put("type", "simple");
        authorization.put("acls", acls);
        spec.put("authorization", authorization);
        if (quota != null) {
            Map<String, Object> quotas = new LinkedHashMap<>();
            quotas.put("producerByteRate", Math.toIntExact(quota.produceBytesPerSecond()));
            quotas.put("consumerByteRate", Math.toIntExact(quota.fetchBytesPerSecond()));
            quotas.put("requestPercentage", (int) quota.requestPercentage());
            spec.put("quotas", quotas);
        }
        return resource("KafkaUser", user, spec);
    }

    private Map<String, Object> topic(String topic, Map<String, String> config) {
        return topic(topic, partitions, config);
    }

    private Map<String, Object> topic(String topic, int partitions, Map<String, String> config) {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("topicName", topic);
        spec.put("partitions", partitions);
        spec.put("replicas", replicas);
        if (!config.isEmpty()) {
            spec.put("config", new LinkedHashMap<>(config));
        }
        // a topic name may hold '_' or upper case, which a Kubernetes name may not
        String name = topic.toLowerCase(Locale.ROOT).replace('_', '-');
        return resource("KafkaTopic", name, spec);
    }

    private Map<String, Object> resource(String kind, String name, Map<String, Object> spec) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", name);
        metadata.put("labels", Map.of("strimzi.io/cluster", cluster));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("apiVersion", API_VERSION);
        r.put("kind", kind);
        r.put("metadata", metadata);
        r.put("spec", spec);
        return r;
    }

    private static String resourceType(ResourcePattern p) {
        return switch (p.resourceType()) {
            case TOPIC -> "topic";
            case GROUP -> "group";
            case TRANSACTIONAL_ID -> "transactionalId";
            case CLUSTER -> "cluster";
            default -> throw new IllegalArgumentException("Strimzi has no ACL resource type for " + p.resourceType());
        };
    }

    /** Kafka's operation in Strimzi's spelling: {@code DESCRIBE_CONFIGS} is {@code DescribeConfigs}. */
    private static String operation(AclOperation op) {
        StringBuilder b = new StringBuilder();
        for (String word : op.name().split("_")) {
            b.append(word.charAt(0)).append(word.substring(1).toLowerCase(Locale.ROOT));
        }
        return b.toString();
    }
}
