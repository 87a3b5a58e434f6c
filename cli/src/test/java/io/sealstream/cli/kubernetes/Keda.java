package io.sealstream.cli.kubernetes;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import java.util.List;

/**
 * KEDA's custom resources ({@code keda.sh/v1alpha1}) as typed records, for the fields of KEDA's CRD
 * schema that a Sealstream deployment may use; KEDA publishes no Java model. Read strictly, any
 * other field (a misspelling, a field of another scaler) is refused. The Kafka trigger's metadata
 * keys and authentication parameters are the names KEDA's Kafka scaler reads.
 */
final class Keda {
    static final String API_VERSION = "keda.sh/v1alpha1";

    private Keda() {
    }

    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    record ScaledObjectSpec(ScaleTarget scaleTargetRef, Integer pollingInterval, Integer cooldownPeriod,
                            Integer initialCooldownPeriod, Integer idleReplicaCount, Integer minReplicaCount,
                            Integer maxReplicaCount, Advanced advanced, Fallback fallback, List<Trigger> triggers) {
    }

    record ScaleTarget(String apiVersion, String kind, String name, String envSourceContainerName) {
    }

    record Advanced(Boolean restoreToOriginalReplicaCount, HpaConfig horizontalPodAutoscalerConfig) {
    }

    record HpaConfig(String name, HorizontalPodAutoscalerBehavior behavior) {
    }

    record Fallback(Integer failureThreshold, Integer replicas, String behavior) {
    }

    /** One trigger; this deployment uses only {@code type: kafka}, whose metadata is {@link KafkaMetadata}. */
    record Trigger(String type, String name, KafkaMetadata metadata, AuthenticationRef authenticationRef,
                   String metricType, Boolean useCachedMetrics) {
    }

    /** The Kafka scaler's trigger metadata: every value is a string, as in KEDA's CRD. */
    record KafkaMetadata(String bootstrapServers, String consumerGroup, String topic, String lagThreshold,
                         String activationLagThreshold, String offsetResetPolicy, String allowIdleConsumers,
                         String excludePersistentLag, String scaleToZeroOnInvalidOffset, String limitToPartitionsWithLag,
                         String sasl, String tls, String version) {
    }

    record AuthenticationRef(String name, String kind) {
    }

    record TriggerAuthentication(String apiVersion, String kind, ObjectMeta metadata, TriggerAuthenticationSpec spec) {
    }

    record TriggerAuthenticationSpec(List<SecretTargetRef> secretTargetRef) {
    }

    /** {@code parameter} is one of the Kafka scaler's authentication parameters. */
    record SecretTargetRef(String parameter, String name, String key) {
        static final List<String> KAFKA_PARAMETERS = List.of("sasl", "username", "password", "tls", "ca", "cert", "key",
                "keyPassword");
    }
}
