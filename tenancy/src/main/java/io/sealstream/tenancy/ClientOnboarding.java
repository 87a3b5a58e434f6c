package io.sealstream.tenancy;

import io.sealstream.audit.AuditTopic;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.time.Duration;
import java.util.Map;

/**
 * Everything that makes or ends a client: its Kafka principal, topics, ACLs and quota
 * ({@link ClientProvisioner}), the envelope schemas under both topics' subjects (so workers and
 * the client find them instead of racing to register them), and an event on the audit topic
 * (producer {@link #AUDIT_PRODUCER}). {@code sealstream clients add|remove}, the process
 * deployment and the embedded stack ({@code up --client}, tests) all go through here.
 */
public final class ClientOnboarding {
    /** The audit chain of client provisioning. */
    public static final String AUDIT_PRODUCER = "provisioning";

    private ClientOnboarding() {
    }

    /**
     * Provisions the client whose principal is {@code credentials}' user: schemas first, then the
     * Kafka side with the credential last, so a failure anywhere leaves no principal that can log in.
     */
    public static void add(ClientProvisioner provisioner, String registryUrl, KafkaNames names, ClientCredentials credentials,
                           ClientQuota quota, boolean reuseTopics) {
        registerSchemas(registryUrl, names, credentials.username());
        provisioner.createAuditTopic(); // before anything is granted: the grant must be audited
        provisioner.addClient(credentials, quota, reuseTopics);
        audit(provisioner, registryUrl).appendNow(AUDIT_PRODUCER, "client.provisioned", Map.of(
                "client", credentials.username(),
                "request_topics", String.join(",", names.requestTopics(credentials.username())),
                "response_topic", names.responseTopic(credentials.username()),
                "produce_bps", Long.toString(quota.produceBytesPerSecond()),
                "fetch_bps", Long.toString(quota.fetchBytesPerSecond()),
                "request_pct", Double.toString(quota.requestPercentage()),
                "reused_topics", Boolean.toString(reuseTopics)));
    }

    /** Removes {@code clientId} ({@link ClientProvisioner#removeClient}) and audits the removal if there was one. */
    public static ClientProvisioner.Removal remove(ClientProvisioner provisioner, String registryUrl, String clientId,
                                                   boolean deleteTopics) {
        ClientProvisioner.Removal r = provisioner.removeClient(clientId, deleteTopics);
        if (r.hadCredentials() || r.aclsDeleted() > 0 || r.topicsDeleted()) {
            provisioner.createAuditTopic();
            audit(provisioner, registryUrl).appendNow(AUDIT_PRODUCER, "client.removed", Map.of(
                    "client", clientId,
                    "had_credentials", Boolean.toString(r.hadCredentials()),
                    "acls_deleted", Integer.toString(r.aclsDeleted()),
                    "topics_deleted", Boolean.toString(r.topicsDeleted())));
        }
        return r;
    }

    private static AuditTopic audit(ClientProvisioner provisioner, String registryUrl) {
        return new AuditTopic(KafkaNames.AUDIT_TOPIC, provisioner.adminConfig(),
                new SchemaRegistryClient(registryUrl, Duration.ofSeconds(10)));
    }

    /** Registers the request and response envelope schemas of {@code clientId}'s topics. */
    public static void registerSchemas(String registryUrl, KafkaNames names, String clientId) {
        SchemaRegistryClient registry = new SchemaRegistryClient(registryUrl, Duration.ofSeconds(10));
        for (String topic : names.requestTopics(clientId)) {
            registry.register(topic + "-value", EncryptedRequest.getClassSchema());
        }
        registry.register(names.responseTopic(clientId) + "-value", EncryptedResponse.getClassSchema());
    }
}
