package io.sealstream.schemas.serde;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-wire-format records into Avro specific records of type {@code T}, resolving
 * the writer schema (fetched by id, cached) against {@code T}'s schema, so records written with
 * an older or newer compatible schema still read.
 *
 * <p>A record that is not in the wire format, names an unknown schema id, or does not decode
 * fails with a {@link SerializationException} that says which and never quotes the bytes.
 */
public final class ConfluentAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    private final Class<T> type;
    private final Schema readerSchema;
    private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
    private SchemaRegistryClient registry;

    /** A deserializer for {@code type}; {@link #configure} must follow. */
    public ConfluentAvroDeserializer(Class<T> type) {
        this(type, null);
    }

    /** A deserializer for {@code type} on an existing registry client. */
    public ConfluentAvroDeserializer(Class<T> type, SchemaRegistryClient registry) {
        this.type = Objects.requireNonNull(type, "type");
        this.readerSchema = SpecificData.get().getSchema(type);
        this.registry = registry;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        if (registry == null) {
            registry = new SchemaRegistryClient(SerdeConfig.url(configs), SerdeConfig.requestTimeout(configs));
        }
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        if (data == null) {
            return null;
        }
        if (registry == null) {
            throw new IllegalStateException("deserializer not configured: pass '" + SerdeConfig.SCHEMA_REGISTRY_URL + "'");
        }
        int id = WireFormat.schemaId(topic, data);
        SpecificDatumReader<T> reader = readers.computeIfAbsent(id, this::readerFor);
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_LENGTH,
                    data.length - WireFormat.HEADER_LENGTH, null);
            T record = reader.read(null, decoder);
            if (!decoder.isEnd()) {
                throw new SerializationException("record on topic '" + topic + "' has bytes after its "
                        + type.getSimpleName() + " (schema id " + id + "); it is corrupt or was written with another schema");
            }
            return record;
        } catch (IOException | RuntimeException e) {
            if (e instanceof SerializationException se) {
                throw se;
            }
            throw new SerializationException("record on topic '" + topic + "' does not decode as "
                    + type.getSimpleName() + " with schema id " + id + " (" + e.getClass().getSimpleName()
                    + "); it is corrupt or truncated");
        }
    }

    private SpecificDatumReader<T> readerFor(int id) {
        Schema writer;
        try {
            writer = registry.schemaById(id);
        } catch (SchemaRegistryException e) {
            throw new SerializationException("cannot read a record with schema id " + id + ": " + e.getMessage(), e);
        }
        if (!writer.getFullName().equals(readerSchema.getFullName())) {
            throw new SerializationException("schema id " + id + " is " + writer.getFullName() + ", not "
                    + readerSchema.getFullName() + "; the topic carries another record type");
        }
        return new SpecificDatumReader<>(writer, readerSchema);
    }
}
