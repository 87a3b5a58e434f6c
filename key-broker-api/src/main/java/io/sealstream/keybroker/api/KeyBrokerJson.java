package io.sealstream.keybroker.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

/** The JSON mapping of the key broker API: snake_case names, byte arrays as base64, unknown fields ignored. */
public final class KeyBrokerJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private KeyBrokerJson() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
