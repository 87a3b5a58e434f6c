package io.sealstream.schemas.serde;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/** Serdes of the two envelope records, in the Confluent wire format. */
public final class EnvelopeSerdes {
    private EnvelopeSerdes() {
    }

    /** Serde for request topics. */
    public static Serde<EncryptedRequest> requests(SchemaRegistryClient registry, boolean autoRegister) {
        return Serdes.serdeFrom(new ConfluentAvroSerializer<>(registry, autoRegister),
                new ConfluentAvroDeserializer<>(EncryptedRequest.class, registry));
    }

    /** Serde for response topics. */
    public static Serde<EncryptedResponse> responses(SchemaRegistryClient registry, boolean autoRegister) {
        return Serdes.serdeFrom(new ConfluentAvroSerializer<>(registry, autoRegister),
                new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry));
    }
}
