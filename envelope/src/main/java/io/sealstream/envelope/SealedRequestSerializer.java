package io.sealstream.envelope;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroSerializer;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The only serializer a client producer needs: it accepts {@link SealedRequest}s, which only
 * {@link ClientSession#seal} makes, and writes them in the Confluent wire format. A request
 * sealed for one topic is refused on another, before it leaves the client.
 */
public final class SealedRequestSerializer implements Serializer<SealedRequest> {
    private final ConfluentAvroSerializer<EncryptedRequest> avro;

    /** For Kafka's reflective construction; configure with {@code schema.registry.url}. */
    public SealedRequestSerializer() {
        this.avro = new ConfluentAvroSerializer<>();
    }

    /** A serializer on an existing registry client. */
    public SealedRequestSerializer(SchemaRegistryClient registry, boolean autoRegister) {
        this.avro = new ConfluentAvroSerializer<>(registry, autoRegister);
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        avro.configure(configs, isKey);
    }

    @Override
    public byte[] serialize(String topic, SealedRequest request) {
        if (request == null) {
            return null;
        }
        if (!request.topic().equals(topic)) {
            throw new SerializationException("request " + request.requestId() + " is sealed for topic '"
                    + request.topic() + "' and cannot be written to '" + topic
                    + "'; seal it with a session on that topic");
        }
        return avro.serialize(topic, request.toRecord());
    }
}
