package io.sealstream.streams;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/**
 * A record value the batcher has already serialized, with the topic it must go to. The batcher
 * serializes its own output so it can check the size against the topic's limit and wait out a
 * registry outage before anything reaches the producer.
 */
record Outgoing(String topic, byte[] value) {

    /** Writes the bytes as they are. */
    static final class BytesSerializer implements Serializer<Outgoing> {
        @Override
        public byte[] serialize(String topic, Outgoing data) {
            return data == null ? null : data.value();
        }
    }

    /** Routes each answer to the topic the batcher chose: {@code sealstream.responses.<client_id>}. */
    static final class Router implements TopicNameExtractor<String, Outgoing> {
        @Override
        public String extract(String key, Outgoing value, RecordContext context) {
            return value.topic();
        }
    }
}
