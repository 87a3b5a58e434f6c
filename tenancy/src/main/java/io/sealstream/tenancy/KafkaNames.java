package io.sealstream.tenancy;

import io.sealstream.envelope.EnvelopeProtocol;
import java.util.Objects;

/**
 * The Kafka names of one Sealstream deployment that access control speaks of: where clients send
 * and read, and what belongs to the workers. Client topics follow {@link EnvelopeProtocol}.
 *
 * @param requestTopicFamily clients send to {@code <family>.<client_id>}
 * @param workerApplicationId the workers' Kafka Streams application id: their consumer group, the
 *     prefix of their transactional ids and of their changelog and repartition topics
 * @param dlqTopic the dead-letter topic
 * @param workerUser the workers' SCRAM principal
 */
public record KafkaNames(String requestTopicFamily, String workerApplicationId, String dlqTopic, String workerUser) {
    /** Default dead-letter topic. */
    public static final String DEFAULT_DLQ_TOPIC = "sealstream.dlq";
    /** Default Kafka Streams application id: every worker of one deployment shares it. */
    public static final String DEFAULT_WORKER_APPLICATION_ID = "sealstream-worker";
    /** Default principal of the workers. */
    public static final String DEFAULT_WORKER_USER = "sealstream-worker";
    /** Names no client may take: they are the deployment's own principals, groups and topics. */
    public static final String RESERVED_PREFIX = "sealstream";

    /** The names every default deployment uses. */
    public static final KafkaNames DEFAULTS = new KafkaNames(EnvelopeProtocol.REQUEST_TOPIC_FAMILY,
            DEFAULT_WORKER_APPLICATION_ID, DEFAULT_DLQ_TOPIC, DEFAULT_WORKER_USER);

    public KafkaNames {
        Objects.requireNonNull(requestTopicFamily, "requestTopicFamily");
        Objects.requireNonNull(workerApplicationId, "workerApplicationId");
        Objects.requireNonNull(dlqTopic, "dlqTopic");
        Objects.requireNonNull(workerUser, "workerUser");
    }

    /** These names with another request topic family. */
    public KafkaNames withRequestTopicFamily(String family) {
        return new KafkaNames(family, workerApplicationId, dlqTopic, workerUser);
    }

    /** The request topic of {@code clientId}. */
    public String requestTopic(String clientId) {
        return EnvelopeProtocol.requestTopicFor(requestTopicFamily, clientId);
    }

    /** The response topic of {@code clientId}. */
    public String responseTopic(String clientId) {
        return EnvelopeProtocol.responseTopicFor(clientId);
    }

    /**
     * Whether {@code clientId} may be provisioned: a legal client id that does not start with
     * {@value #RESERVED_PREFIX}, so a client's principal, group and topics never collide with the
     * workers' (whose ACLs are prefixed).
     */
    public static boolean isProvisionableClientId(String clientId) {
        return EnvelopeProtocol.isLegalClientId(clientId)
                && !clientId.toLowerCase(java.util.Locale.ROOT).startsWith(RESERVED_PREFIX);
    }
}
