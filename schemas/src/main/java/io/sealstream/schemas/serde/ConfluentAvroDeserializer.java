package io.sealstream.schemas.serde;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
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
 * fails with a {@link SerializationException} that says which and never quotes the bytes. A
 * registry that is unreachable or answers 5xx is not the record's fault: that surfaces as the
 * {@link SchemaRegistryException} itself ({@link SchemaRegistryException#isTransient()}), so the
 * caller can wait and retry instead of refusing the record.
 */
public final class ConfluentAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
    static {
        AvroLengthClaims.installSystemLimits();
    }

    private final Class<T> type;
    private final Schema readerSchema;
    private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
    /**
     * Ids the registry answered 404 for, or whose schema this reader refuses, with when to ask
     * again: random ids in hostile records cost one lookup per id per {@link #REFUSED_ID_TTL_MILLIS},
     * and an id registered after a record guessed it is read once that time has passed. At most
     * 1,024 kept.
     */
    private final Map<Integer, Long> refusedIds = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Integer, Long> eldest) {
                    return size() > 1024;
                }
            });
    private static final long REFUSED_ID_TTL_MILLIS = 30_000;
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
            AvroLengthClaims.check(reader.getSchema(), data, WireFormat.HEADER_LENGTH,
                    data.length - WireFormat.HEADER_LENGTH);
            // the length walk above read exactly these bytes with this writer schema, trailing bytes included
            return reader.read(null, DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_LENGTH,
                    data.length - WireFormat.HEADER_LENGTH, null));
        } catch (IOException | RuntimeException e) {
            if (e instanceof SerializationException se) {
                throw se;
            }
            // the messages of AvroLengthClaims name claims and sizes, never content
            String why = e instanceof IOException && e.getMessage() != null && !(e instanceof java.io.EOFException)
                    ? e.getMessage() : e.getClass().getSimpleName();
            throw new SerializationException("record on topic '" + topic + "' does not decode as "
                    + type.getSimpleName() + " with schema id " + id + " (" + why + "); it is corrupt or truncated");
        }
    }

    /**
     * Whether a record's writer schema is already known here, so decoding it needs no registry
     * call. A caller that just saw the registry fail can wait with the records that do need it and
     * go on with the others.
     */
    public boolean knowsSchemaOf(byte[] data) {
        return data != null && data.length >= WireFormat.HEADER_LENGTH && data[0] == WireFormat.MAGIC
                && readers.containsKey(java.nio.ByteBuffer.wrap(data, 1, 4).getInt());
    }

    private SpecificDatumReader<T> readerFor(int id) {
        Long retryAt = refusedIds.get(id);
        if (retryAt != null && System.currentTimeMillis() < retryAt) {
            throw new SerializationException("cannot read a record with schema id " + id
                    + ": refused a moment ago (unknown to the registry, or not a shape this reader accepts)");
        }
        Schema writer;
        try {
            writer = registry.schemaById(id);
        } catch (SchemaRegistryException e) {
            if (e.isTransient()) {
                // not the record's fault: the caller waits for the registry instead of refusing the record
                throw e;
            }
            if (e.isNotFound()) {
                refusedIds.put(id, System.currentTimeMillis() + REFUSED_ID_TTL_MILLIS);
            }
            throw new SerializationException("cannot read a record with schema id " + id + ": " + e.getMessage(), e);
        }
        if (!writer.getFullName().equals(readerSchema.getFullName())) {
            throw new SerializationException("schema id " + id + " is " + writer.getFullName() + ", not "
                    + readerSchema.getFullName() + "; the topic carries another record type");
        }
        try {
            AvroLengthClaims.checkShape(writer);
        } catch (IOException | StackOverflowError e) {
            refusedIds.put(id, System.currentTimeMillis() + REFUSED_ID_TTL_MILLIS);
            throw new SerializationException("schema id " + id + " is refused: "
                    + (e instanceof IOException ? e.getMessage() : "it nests beyond any envelope")
                    + "; the registry holds a schema no Sealstream writer uses");
        }
        return new SpecificDatumReader<>(writer, readerSchema);
    }
}
