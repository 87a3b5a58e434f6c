package io.sealstream.streams;

import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.schemas.v1.EncryptedResponse;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/** Sends every response to {@code sealstream.responses.<client_id>}, which exists once the client is provisioned. */
final class ResponseRouter implements TopicNameExtractor<String, EncryptedResponse> {
    @Override
    public String extract(String requestId, EncryptedResponse response, RecordContext context) {
        return EnvelopeProtocol.responseTopicFor(response.getClientId());
    }
}
