package io.sealstream.tenancy;

import io.sealstream.envelope.EnvelopeProtocol;
import java.util.Objects;

/**
 * The Kafka names of one Sealstream deployment that access control speaks of: where clients send
 * and read, and what belongs to the workers. Client topics follow {@link EnvelopeProtocol}.
 *
 * @param requestTopicFamily the base family: clients send to {@code <family>.<client_id>}, and
 *     each worker pool to its own family derived from it ({@link EnvelopeProtocol#poolFamily})
 * @param workerApplicationId the base Kafka Streams application id of the workers: their consumer
 *     group, the prefix of their transactional ids and of their changelog and repartition topics;
 *     a named pool's workers use {@code <id>.<pool>}
 * @param dlqTopic the dead-letter topic
 * @param workerUser the workers' SCRAM principal
 * @param pools the worker pools, {@value EnvelopeProtocol#DEFAULT_POOL} when there is one
 */
public record KafkaNames(String requestTopicFamily, String workerApplicationId, String dlqTopic, String workerUser,
                         java.util.List<String> pools) {
    /** Default dead-letter topic. */
    public static final String DEFAULT_DLQ_TOPIC = "sealstream.dlq";
    /** Default Kafka Streams application id: every worker of one deployment shares it. */
    public static final String DEFAULT_WORKER_APPLICATION_ID = "sealstream-worker";
    /** Default principal of the workers. */
    public static final String DEFAULT_WORKER_USER = "sealstream-worker";
    /**
     * Partitions of a deployment's first request topics (later ones follow them) and of its
     * dead-letter topic, unless the operator chooses: the most workers of a pool that can share its
     * load, so also a Kubernetes autoscaler's maximum (kubernetes/base/autoscaling.yaml). The
     * embedded stack has its own, smaller count.
     */
    public static final int DEFAULT_PARTITIONS = 6;
    /** The principal of the workers' autoscaler (KEDA), which may only read their lag. */
    public static final String AUTOSCALER_USER = "sealstream-autoscaler";
    /** The key broker's principal: it appends its audit events to {@link #AUDIT_TOPIC}. */
    public static final String KEY_BROKER_USER = "sealstream-key-broker";
    /**
     * The audit topic: every key-broker decision and client provisioning, hash-chained per producer
     * (docs/observability.md). One partition, kept forever: a chain is checked from its first event.
     */
    public static final String AUDIT_TOPIC = "sealstream.audit";
    /** Names no client may take: they are the deployment's own principals, groups and topics. */
    public static final String RESERVED_PREFIX = "sealstream";

    /** The names every default deployment uses. */
    public static final KafkaNames DEFAULTS = new KafkaNames(EnvelopeProtocol.REQUEST_TOPIC_FAMILY,
            DEFAULT_WORKER_APPLICATION_ID, DEFAULT_DLQ_TOPIC, DEFAULT_WORKER_USER, java.util.List.of(EnvelopeProtocol.DEFAULT_POOL));

    public KafkaNames {
        Objects.requireNonNull(requestTopicFamily, "requestTopicFamily");
        Objects.requireNonNull(workerApplicationId, "workerApplicationId");
        Objects.requireNonNull(dlqTopic, "dlqTopic");
        Objects.requireNonNull(workerUser, "workerUser");
        pools = java.util.List.copyOf(pools);
        if (pools.isEmpty()) {
            throw new IllegalArgumentException("a deployment has at least one worker pool");
        }
    }

    /** The autoscaler's SCRAM principal ({@link AclTable.Grantee#AUTOSCALER}). */
    public String autoscalerUser() {
        return AUTOSCALER_USER;
    }

    /** These names with another base request topic family. */
    public KafkaNames withRequestTopicFamily(String family) {
        return new KafkaNames(family, workerApplicationId, dlqTopic, workerUser, pools);
    }

    /** These names with these worker pools (from the policy's {@code pools:}). */
    public KafkaNames withPools(java.util.Collection<String> pools) {
        return new KafkaNames(requestTopicFamily, workerApplicationId, dlqTopic, workerUser,
                pools.isEmpty() ? java.util.List.of(EnvelopeProtocol.DEFAULT_POOL) : java.util.List.copyOf(pools));
    }

    /** The request topic family of {@code pool}. */
    public String familyOf(String pool) {
        return EnvelopeProtocol.poolFamily(requestTopicFamily, pool);
    }

    /** The Kafka Streams application id of {@code pool}'s workers. */
    public String applicationIdOf(String pool) {
        // '.', which the base id's '-' prefixes cannot reach: one pool's rows never cover another's names
        return EnvelopeProtocol.DEFAULT_POOL.equals(pool) ? workerApplicationId : workerApplicationId + "." + pool;
    }

    /** The request topics of {@code clientId}: one per worker pool. */
    public java.util.List<String> requestTopics(String clientId) {
        return pools.stream().map(p -> EnvelopeProtocol.requestTopicFor(familyOf(p), clientId)).toList();
    }

    /** The response topic of {@code clientId}. */
    public String responseTopic(String clientId) {
        return EnvelopeProtocol.responseTopicFor(clientId);
    }

    /** The stream topic of {@code clientId}: chunks of its streamed answers (docs/streaming.md). */
    public String streamTopic(String clientId) {
        return EnvelopeProtocol.streamTopicFor(clientId);
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
