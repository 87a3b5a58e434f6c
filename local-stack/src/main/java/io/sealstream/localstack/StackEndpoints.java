package io.sealstream.localstack;

import io.sealstream.audit.AuditTopic;
import io.sealstream.client.SealstreamClient;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.tenancy.KafkaNames;
import java.time.Duration;
import java.util.Map;

/**
 * What a load or fault scenario needs of a running Sealstream deployment, whether the in-process
 * {@link LocalStack} or a deployment of separate processes: a client for a provisioned tenant, the
 * operator's Kafka view (to count committed records and read the audit topic), and the registry.
 */
public interface StackEndpoints {
    /** A client builder for {@code clientId}, provisioned if new, trusting this deployment's key broker. */
    SealstreamClient.Builder clientBuilder(String clientId);

    /** Kafka settings of the provisioning super user: the operator's view of every topic. */
    Map<String, Object> adminClientConfig();

    /** The schema registry's URL. */
    String registryUrl();

    /** The audit topic as the admin reads it: for checks of its chains. */
    default AuditTopic auditTopic() {
        return new AuditTopic(KafkaNames.AUDIT_TOPIC, adminClientConfig(),
                new SchemaRegistryClient(registryUrl(), Duration.ofSeconds(10)));
    }
}
