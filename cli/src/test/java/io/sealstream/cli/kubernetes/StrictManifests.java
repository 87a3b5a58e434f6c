package io.sealstream.cli.kubernetes;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads Kubernetes manifests into the typed models of Kubernetes (fabric8), Strimzi and
 * {@link Keda}, refusing what the API server or an operator would not take: an unknown kind, a
 * field the type does not have (fabric8's and Strimzi's models keep unknown fields aside; here they
 * are refused), a number or boolean where the schema wants a string.
 */
final class StrictManifests {
    /** The kinds a Sealstream deployment has, by {@code apiVersion/kind}. */
    static final Map<String, Class<?>> KINDS = Map.ofEntries(
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("apps/v1/StatefulSet", StatefulSet.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
            Map.entry("kafka.strimzi.io/v1/KafkaUser", KafkaUser.class),
            Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class),
            Map.entry(Keda.API_VERSION + "/ScaledObject", Keda.ScaledObject.class),
            Map.entry(Keda.API_VERSION + "/TriggerAuthentication", Keda.TriggerAuthentication.class));

    private static final ObjectMapper YAML = strictMapper();

    private StrictManifests() {
    }

    /** One YAML document of a manifest: where it came from, its tree and its typed object. */
    record Document(String source, JsonNode tree, Object typed) {
        String kind() {
            return tree.path("kind").asText();
        }

        String name() {
            return tree.path("metadata").path("name").asText();
        }
    }

    private static ObjectMapper strictMapper() {
        ObjectMapper m = new ObjectMapper(new YAMLFactory());
        m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        // the models' "additional properties" would take any unknown field without a word
        m.setAnnotationIntrospector(new JacksonAnnotationIntrospector() {
            @Override
            public Boolean hasAnySetter(Annotated a) {
                return Boolean.FALSE;
            }
        });
        // Kubernetes refuses 1 or true where a string belongs (an env value, KEDA's metadata)
        for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean)) {
            m.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        return m;
    }

    /** Every document of a YAML stream, each read as its kind's type. */
    static List<Document> read(String source, String yaml) {
        List<Document> out = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (docs.hasNext()) {
                JsonNode tree = docs.next();
                if (tree == null || tree.isNull() || tree.isEmpty()) {
                    continue;
                }
                out.add(new Document(source, tree, typed(source, tree)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + source, e);
        }
        return out;
    }

    /** {@code tree} as the type of its kind, refusing unknown kinds and fields. */
    static Object typed(String source, JsonNode tree) {
        String key = tree.path("apiVersion").asText() + "/" + tree.path("kind").asText();
        Class<?> type = KINDS.get(key);
        if (type == null) {
            throw new IllegalArgumentException(source + ": no Sealstream manifest is of kind " + key);
        }
        try {
            return YAML.treeToValue(tree, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            String at = e instanceof com.fasterxml.jackson.databind.JsonMappingException m ? " at "
                    + m.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(java.util.stream.Collectors.joining(".")) : "";
            throw new IllegalArgumentException(source + ": " + key + " '" + tree.path("metadata").path("name").asText()
                    + "' does not fit its schema" + at + ": " + e.getOriginalMessage(), e);
        }
    }

    /** A YAML tree of {@code value} (the rendering of code), to compare with a file's. */
    static JsonNode tree(Object value) {
        return YAML.valueToTree(value);
    }
}
