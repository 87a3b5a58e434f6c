package io.sealstream.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Every client's request topic shares its family's keyset; the concrete topic is bound into each record. */
class RequestTopicFamilyTest {
    private static final String FAMILY = "sealstream.requests";
    private final TopicKeyset keyset = TopicKeyset.generate(FAMILY, Instant.now());
    private final RequestOpener opener = RequestOpener.builder().build(keyset);

    @Test
    void aRequestSealedForAClientsTopicOpensThereWithTheFamilyKeyset() throws Exception {
        ClientSession acme = ClientSession.builder(keyset.publicKeys()).clientId("acme")
                .requestTopic(EnvelopeProtocol.requestTopicFor(FAMILY, "acme")).build();
        SealedRequest sealed = acme.seal("r1", Fixtures.embeddings("hello"));

        assertThat(sealed.topic()).isEqualTo("sealstream.requests.acme");
        assertThat(opener.open("sealstream.requests.acme", sealed.toRecord()).clientId()).isEqualTo("acme");
    }

    @Test
    void aRecordMovedToAnotherClientsTopicFailsAsTampered() {
        ClientSession acme = ClientSession.builder(keyset.publicKeys()).clientId("acme")
                .requestTopic("sealstream.requests.acme").build();
        EncryptedRequest record = acme.seal("r1", Fixtures.embeddings("hello")).toRecord();

        assertThatThrownBy(() -> opener.open("sealstream.requests.globex", record))
                .isInstanceOf(TamperedEnvelopeException.class)
                .extracting(e -> ((EnvelopeException) e).reason()).isEqualTo(ErrorCode.TAMPERED);
    }

    @Test
    void aSessionCannotBindATopicOutsideItsKeysFamily() {
        assertThatThrownBy(() -> ClientSession.builder(keyset.publicKeys()).clientId("acme")
                .requestTopic("other.requests.acme").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not in the family");
    }

    @Test
    void theClientOfARequestTopicIsWhatFollowsTheFamily() {
        assertThat(EnvelopeProtocol.clientOfRequestTopic(FAMILY, "sealstream.requests.acme")).contains("acme");
        assertThat(EnvelopeProtocol.clientOfRequestTopic(FAMILY, "sealstream.requests")).isEmpty();
        assertThat(EnvelopeProtocol.clientOfRequestTopic(FAMILY, "sealstream.requestsX.acme")).isEmpty();
        // no dots in client ids: a nested family's topic is never one of this family's clients
        assertThat(EnvelopeProtocol.clientOfRequestTopic(FAMILY, "sealstream.requests.gold.acme")).isEmpty();
        assertThat(EnvelopeProtocol.isLegalClientId("acme-2_b")).isTrue();
        assertThat(EnvelopeProtocol.isLegalClientId("gold.acme")).isFalse();
    }
}
