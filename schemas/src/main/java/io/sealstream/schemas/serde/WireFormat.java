package io.sealstream.schemas.serde;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The Confluent wire format: magic byte 0, the schema's registry id as a 4-byte big-endian
 * integer, then the Avro binary encoding of the record.
 */
final class WireFormat {
    static final byte MAGIC = 0;
    static final int HEADER_LENGTH = 5;

    private WireFormat() {
    }

    static int schemaId(String topic, byte[] data) {
        if (data.length < HEADER_LENGTH) {
            throw new SerializationException("record on topic '" + topic + "' has " + data.length
                    + " bytes, fewer than the 5-byte Confluent header; it was not written by a Confluent-format serializer");
        }
        if (data[0] != MAGIC) {
            throw new SerializationException(String.format("record on topic '%s' starts with byte 0x%02x, not the "
                    + "Confluent magic byte 0x00; it was not written by a Confluent-format serializer", topic, data[0]));
        }
        return ByteBuffer.wrap(data, 1, 4).getInt();
    }

    static void writeHeader(ByteBuffer out, int schemaId) {
        out.put(MAGIC).putInt(schemaId);
    }

    /** Subject of the value (or key) schema of {@code topic}: Confluent's TopicNameStrategy. */
    static String subject(String topic, boolean isKey) {
        return topic + (isKey ? "-key" : "-value");
    }
}
