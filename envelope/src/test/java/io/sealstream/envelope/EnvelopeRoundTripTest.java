package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.ResponseStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EnvelopeRoundTripTest {
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
    private final RequestOpener opener = RequestOpener.builder().build(keyset);
    private final ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();

    @Test
    void workerOpensWhatTheClientSealed() throws Exception {
        InferenceRequest request = Fixtures.chat("Once upon a time " + CANARY);

        OpenedRequest opened = opener.open(TOPIC, session.seal("req-1", request).toRecord());

        assertThat(opened.request()).isEqualTo(request);
        assertThat(opened.requestId()).isEqualTo("req-1");
        assertThat(opened.clientId()).isEqualTo(CLIENT);
        assertThat(opened.sessionId()).isEqualTo(session.sessionId());
        assertThat(opened.responseTopic()).isEqualTo("sealstream.responses.acme");
        assertThat(((ChatInput) opened.request().getTask()).getParameters().getSeed()).isEqualTo(42L);
    }

    @Test
    void clientOpensTheResponseTheWorkerSealed() throws Exception {
        OpenedRequest opened = opener.open(TOPIC, session.seal("req-2", Fixtures.embeddings(CANARY)).toRecord());

        EncryptedResponse sealed = opened.sealResponse(Fixtures.embeddingResult(0.25f, -0.5f), Instant.now());
        OpenedResponse response = session.open(sealed);

        assertThat(sealed.getStatus()).isEqualTo(ResponseStatus.OK);
        assertThat(response.requestId()).isEqualTo("req-2");
        assertThat(((EmbeddingsResult) response.body().getOutput()).getData().get(0).getVector())
                .containsExactly(0.25f, -0.5f);
    }

    @Test
    void errorResponsesAreSealedWithAClearErrorStatus() throws Exception {
        OpenedRequest opened = opener.open(TOPIC, session.seal("req-3", Fixtures.embeddings(CANARY)).toRecord());

        EncryptedResponse sealed = opened.sealError("model_not_served", "this worker serves all-minilm-l6-v2 only",
                Instant.now());
        OpenedResponse response = session.open(sealed);

        assertThat(sealed.getStatus()).isEqualTo(ResponseStatus.ERROR);
        assertThat(response.body().getError().getCode()).isEqualTo("model_not_served");
        assertThat(response.body().getOutput()).isNull();
    }

    @Test
    void sealedRecordsCarryNoPlaintext() {
        EncryptedRequest record = session.seal("req-4", Fixtures.embeddings(CANARY)).toRecord();

        String clearAndCipher = record.toString()
                + new String(Bytes.of(record.getCiphertext()), StandardCharsets.ISO_8859_1)
                + new String(Bytes.of(record.getWrappedDek()), StandardCharsets.ISO_8859_1);
        assertThat(clearAndCipher).doesNotContain(CANARY).doesNotContain("all-minilm");
    }

    @Test
    void everyRequestGetsAFreshNonce() {
        EncryptedRequest a = session.seal("same-id", Fixtures.embeddings(CANARY)).toRecord();
        EncryptedRequest b = session.seal("same-id", Fixtures.embeddings(CANARY)).toRecord();

        assertThat(Bytes.of(a.getNonce())).isNotEqualTo(Bytes.of(b.getNonce()));
        assertThat(Bytes.of(a.getCiphertext())).isNotEqualTo(Bytes.of(b.getCiphertext()));
    }

    @Test
    void aResponseForAnotherSessionIsRefused() throws Exception {
        ClientSession other = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();
        OpenedRequest opened = opener.open(TOPIC, other.seal("req-5", Fixtures.embeddings(CANARY)).toRecord());
        EncryptedResponse sealed = opened.sealResponse(Fixtures.embeddingResult(1f), Instant.now());

        assertThatThrownBy(() -> session.open(sealed))
                .isInstanceOf(TamperedEnvelopeException.class)
                .hasMessageContaining("not this session");
    }

    @Test
    void aClosedSessionRefusesToSeal() {
        session.close();

        assertThatThrownBy(() -> session.seal(Fixtures.embeddings(CANARY)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("open a new session");
    }

    @Test
    void anAuthenticatedPayloadThatDoesNotDecodeCanStillBeAnswered() throws Exception {
        EncryptedRequest good = session.seal("odd", Fixtures.embeddings(CANARY)).toRecord();
        DataKey dek = unwrap(good);
        RequestHeader header = RequestHeader.of(good);
        EnvelopeProtocol.Sealed garbage = EnvelopeProtocol.seal(EnvelopeProtocol.requestKey(dek, "odd"),
                new byte[] {(byte) 0xC3, 0x01, 9, 9, 9, 9, 9, 9, 9, 9, 42}, EnvelopeProtocol.requestAad(TOPIC, header));
        EncryptedRequest odd = EncryptedRequest.newBuilder(good)
                .setNonce(java.nio.ByteBuffer.wrap(garbage.nonce()))
                .setCiphertext(java.nio.ByteBuffer.wrap(garbage.ciphertext())).build();

        MalformedEnvelopeException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                MalformedEnvelopeException.class, () -> opener.open(TOPIC, odd));
        OpenedResponse answer = session.open(e.responder().orElseThrow()
                .sealError("", e.reason().code(), e.getMessage(), Instant.now()));

        assertThat(answer.body().getError().getCode()).isEqualTo("undecodable");
        assertThat(e).hasMessageContaining("newer schema");
    }

    @Test
    void aResponseKeySealsExactlyOnce() throws Exception {
        OpenedRequest opened = opener.open(TOPIC, session.seal("once", Fixtures.embeddings(CANARY)).toRecord());
        opened.sealResponse(Fixtures.embeddingResult(1f), Instant.now());

        assertThatThrownBy(() -> opened.sealResponse(Fixtures.embeddingResult(2f), Instant.now()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("one answer");
    }

    private DataKey unwrap(EncryptedRequest r) throws Exception {
        return keyset.unwrap(r.getKeyId(), Bytes.of(r.getWrappedDek()),
                EnvelopeProtocol.sessionContextInfo(TOPIC, r.getClientId(), r.getSessionId()));
    }

    @Test
    void theSessionDekIsUnwrappedOncePerSession() throws Exception {
        SessionKeyCache cache = new SessionKeyCache();
        RequestOpener cached = RequestOpener.builder().sessionKeyCache(cache).build(keyset);

        for (int i = 0; i < 5; i++) {
            cached.open(TOPIC, session.seal("req-c" + i, Fixtures.embeddings(CANARY)).toRecord());
        }

        assertThat(cache.misses()).isEqualTo(1);
        assertThat(cache.hits()).isEqualTo(4);
        assertThat(cache.size()).isEqualTo(1);
    }
}
