package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.schemas.v1.EncryptedChunk;
import io.sealstream.schemas.v1.EncryptedResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The chunks of a streamed answer (docs/streaming.md): only a request that asks to stream gets a
 * chunk sealer; the client opens each chunk under the session, and nobody on the way can move a
 * chunk to another request, renumber it, mark it final, or pass it off as the answer.
 */
class ChunkStreamTest {
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
    private final RequestOpener opener = RequestOpener.builder().build(keyset);
    private final ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();

    @Test
    void theClientOpensEachChunkInOrderWithItsAttemptAndFinalMark() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s1", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();

        OpenedChunk first = session.openChunk(chunks.seal("Once upon", false, Instant.now()));
        OpenedChunk last = session.openChunk(chunks.seal(" a time", true, Instant.now()));

        assertThat(first.text()).isEqualTo("Once upon");
        assertThat(first.seq()).isZero();
        assertThat(first.last()).isFalse();
        assertThat(last.text()).isEqualTo(" a time");
        assertThat(last.seq()).isEqualTo(1);
        assertThat(last.last()).isTrue();
        assertThat(last.attempt()).isEqualTo(first.attempt());
        assertThat(chunks.streamTopic()).isEqualTo("sealstream.streams.acme");
    }

    @Test
    void onlyAChatThatAsksToStreamGetsAChunkSealer() throws Exception {
        assertThat(opener.open(TOPIC, session.seal("req-s2", Fixtures.chat(CANARY)).toRecord()).chunkSealer()).isEmpty();
        assertThat(opener.open(TOPIC, session.seal("req-s3", Fixtures.embeddings(CANARY)).toRecord()).chunkSealer())
                .isEmpty();
    }

    @Test
    void aChunkRenumberedMarkedFinalOrMovedToAnotherRequestFailsToOpen() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s4", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();
        opener.open(TOPIC, session.seal("req-s5", Fixtures.streamedChat(CANARY)).toRecord());
        EncryptedChunk genuine = chunks.seal("text", false, Instant.now());

        assertThatThrownBy(() -> session.openChunk(copy(genuine).setSeq(1).build()))
                .isInstanceOf(TamperedEnvelopeException.class);
        assertThatThrownBy(() -> session.openChunk(copy(genuine).setFinal$(true).build()))
                .isInstanceOf(TamperedEnvelopeException.class);
        assertThatThrownBy(() -> session.openChunk(copy(genuine).setRequestId("req-s5").build()))
                .isInstanceOf(TamperedEnvelopeException.class);
        assertThatThrownBy(() -> session.openChunk(copy(genuine).setAttempt("0000000000000000").build()))
                .isInstanceOf(TamperedEnvelopeException.class);
        assertThatThrownBy(() -> session.openChunk(copy(genuine).setCreatedAt(genuine.getCreatedAt().plusMillis(1))
                .build())).isInstanceOf(TamperedEnvelopeException.class);
    }

    @Test
    void aChunkCannotBePassedOffAsTheAnswer() throws Exception {
        OpenedRequest opened = opener.open(TOPIC, session.seal("req-s6", Fixtures.streamedChat(CANARY)).toRecord());
        EncryptedChunk chunk = opened.chunkSealer().orElseThrow().seal("a forged answer", true, Instant.now());

        EncryptedResponse posing = EncryptedResponse.newBuilder().setVersion(1).setRequestId("req-s6")
                .setClientId(CLIENT).setSessionId(session.sessionId())
                .setStatus(io.sealstream.schemas.v1.ResponseStatus.OK).setCreatedAt(chunk.getCreatedAt())
                .setNonce(chunk.getNonce()).setCiphertext(chunk.getCiphertext()).setProvenance(null).build();

        assertThatThrownBy(() -> session.open(posing)).isInstanceOf(TamperedEnvelopeException.class);
    }

    @Test
    void noChunkFollowsTheFinalOne() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s7", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();
        chunks.seal("all", true, Instant.now());

        assertThatThrownBy(() -> chunks.seal("more", false, Instant.now())).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has ended");
    }

    @Test
    void aChunkCarriesNoPlaintextInTheClear() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s8", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();

        EncryptedChunk c = chunks.seal("the " + CANARY + " continues", false, Instant.now());

        assertThat(c.toString() + new String(Bytes.of(c.getCiphertext()), StandardCharsets.ISO_8859_1))
                .doesNotContain(CANARY);
    }

    @Test
    void chunksOfDifferentTextLengthsHaveTheSameSizeOnTheWire() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s9", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();

        EncryptedChunk shortOne = chunks.seal("a", false, Instant.now());
        EncryptedChunk longer = chunks.seal(" tokens of different lengths, \uD83D\uDE00", false, Instant.now());

        assertThat(Bytes.of(shortOne.getCiphertext()).length).isEqualTo(Bytes.of(longer.getCiphertext()).length);
        assertThat(session.openChunk(longer).text()).isEqualTo(" tokens of different lengths, \uD83D\uDE00");
    }

    @Test
    void aLoneSurrogateIsRefusedRatherThanSentAsAQuestionMark() throws Exception {
        ChunkSealer chunks = opener.open(TOPIC, session.seal("req-s10", Fixtures.streamedChat(CANARY)).toRecord())
                .chunkSealer().orElseThrow();

        assertThatThrownBy(() -> chunks.seal("half \uD83D", false, Instant.now()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static EncryptedChunk.Builder copy(EncryptedChunk c) {
        return EncryptedChunk.newBuilder(c).setNonce(ByteBuffer.wrap(Bytes.of(c.getNonce())))
                .setCiphertext(ByteBuffer.wrap(Bytes.of(c.getCiphertext())));
    }
}
