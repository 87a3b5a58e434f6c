package io.sealstream.schemas.serde;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.registry.SchemaRegistryException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro specific records in the Confluent wire format, registering (or looking up) the
 * record's schema under the topic's subject once and caching its id.
 */
public final class ConfluentAvroSerializer<T extends SpecificRecord> implements Serializer<T> {
    private final java.util.Map<org.apache.avro.Schema, SpecificDatumWriter<T>> writers =
            new java.util.concurrent.ConcurrentHashMap<>();
    private SchemaRegistryClient registry;
    private boolean autoRegister = SerdeConfig.AUTO_REGISTER_SCHEMAS_DEFAULT;
    private boolean isKey;

    /** For Kafka's reflective construction; {@link #configure} must follow. */
    public ConfluentAvroSerializer() {
    }

    /** A serializer on an existing registry client. */
    public ConfluentAvroSerializer(SchemaRegistryClient registry, boolean autoRegister) {
        this.registry = registry;
        this.autoRegister = autoRegister;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        this.isKey = isKey;
        if (registry == null) {
            registry = new SchemaRegistryClient(SerdeConfig.url(configs), SerdeConfig.requestTimeout(configs));
            autoRegister = SerdeConfig.autoRegister(configs);
        }
    }

    @Override
    public byte[] serialize(String topic, T record) {
        if (record == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("serializer not configured: pass '" + SerdeConfig.SCHEMA_REGISTRY_URL + "'");
        }
        String subject = WireFormat.subject(topic, isKey);
        int id;
        try {
            id = autoRegister ? registry.register(subject, record.getSchema())
                    : registry.idOf(subject, record.getSchema());
        } catch (SchemaRegistryException e) {
            throw new SerializationException("cannot write a " + record.getSchema().getName() + " to topic '"
                    + topic + "': " + e.getMessage(), e);
        }
        try {
            ByteArrayOutputStream body = new ByteArrayOutputStream(256);
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(body, null);
            writers.computeIfAbsent(record.getSchema(), SpecificDatumWriter::new).write(record, encoder);
            encoder.flush();
            ByteBuffer out = ByteBuffer.allocate(WireFormat.HEADER_LENGTH + body.size());
            WireFormat.writeHeader(out, id);
            out.put(body.toByteArray());
            return out.array();
        } catch (IOException | RuntimeException e) {
            // the record's contents stay out of the message: it may be plaintext on a client
            throw new SerializationException("could not encode a " + record.getSchema().getName()
                    + " for topic '" + topic + "' (" + e.getClass().getSimpleName() + ")");
        }
    }
}
