package io.sealstream.schemas.serde;

import java.time.Duration;
import java.util.Map;

/**
 * Configuration keys of the Confluent-wire-format serdes, with their defaults. The names match
 * Confluent's serializers, so existing Kafka client configs carry over.
 */
public final class SerdeConfig {
    /** Base URL of the Confluent-compatible registry API. Required. */
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    /**
     * Whether the serializer registers its schema under the subject on first use ({@code true},
     * the default) or only looks up a schema an operator registered ({@code false}, for
     * production registries where clients may not write).
     */
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final boolean AUTO_REGISTER_SCHEMAS_DEFAULT = true;

    /** Timeout of one registry HTTP call, in milliseconds. */
    public static final String REGISTRY_REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final long REGISTRY_REQUEST_TIMEOUT_MS_DEFAULT = 10_000;

    private SerdeConfig() {
    }

    static String url(Map<String, ?> configs) {
        Object url = configs.get(SCHEMA_REGISTRY_URL);
        if (url == null || url.toString().isBlank()) {
            throw new IllegalArgumentException("missing '" + SCHEMA_REGISTRY_URL
                    + "': set it to the registry's Confluent API, e.g. http://127.0.0.1:8081/apis/ccompat/v7");
        }
        return url.toString();
    }

    static boolean autoRegister(Map<String, ?> configs) {
        Object v = configs.get(AUTO_REGISTER_SCHEMAS);
        return v == null ? AUTO_REGISTER_SCHEMAS_DEFAULT : Boolean.parseBoolean(v.toString());
    }

    static Duration requestTimeout(Map<String, ?> configs) {
        Object v = configs.get(REGISTRY_REQUEST_TIMEOUT_MS);
        return Duration.ofMillis(v == null ? REGISTRY_REQUEST_TIMEOUT_MS_DEFAULT : Long.parseLong(v.toString()));
    }
}
