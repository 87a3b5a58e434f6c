package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@EmbeddedStack
class SealedRequestSerializerTest {
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
    private final ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();
    private SchemaRegistryClient registry;

    @BeforeEach
    void connect(SchemaRegistryServer server) {
        registry = new SchemaRegistryClient(server.url(), Duration.ofSeconds(10));
    }

    @Test
    void aSealedRequestIsWrittenInTheWireFormatAndOpensOnTheWorker() throws Exception {
        SealedRequest sealed = session.seal("r-1", Fixtures.embeddings(CANARY));

        byte[] bytes = new SealedRequestSerializer(registry, true).serialize(TOPIC, sealed);
        EncryptedRequest read = new ConfluentAvroDeserializer<>(EncryptedRequest.class, registry).deserialize(TOPIC, bytes);

        assertThat(new String(bytes, StandardCharsets.ISO_8859_1)).doesNotContain(CANARY);
        assertThat(RequestOpener.builder().build(keyset).open(TOPIC, read).request())
                .isEqualTo(Fixtures.embeddings(CANARY));
    }

    @Test
    void aRequestSealedForAnotherTopicIsRefusedBeforeItLeavesTheClient() {
        SealedRequest sealed = session.seal("r-2", Fixtures.embeddings(CANARY));

        assertThatThrownBy(() -> new SealedRequestSerializer(registry, true).serialize("other.topic", sealed))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("sealed for topic 'sealstream.requests'")
                .hasMessageNotContaining(CANARY);
    }
}
