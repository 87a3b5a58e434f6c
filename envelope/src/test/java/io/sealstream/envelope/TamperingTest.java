package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Any change to a sealed record, in any byte or field, is caught and reported with a typed error. */
class TamperingTest {
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
    private final RequestOpener opener = RequestOpener.builder().build(keyset);
    private final ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();
    private final EncryptedRequest original = session.seal("req-1", Fixtures.embeddings(CANARY)).toRecord();

    static Stream<Arguments> binaryFields() {
        return Stream.of(
                Arguments.of("ciphertext", (Function<EncryptedRequest, ByteBuffer>) EncryptedRequest::getCiphertext,
                        (BiConsumer<EncryptedRequest.Builder, ByteBuffer>) EncryptedRequest.Builder::setCiphertext),
                Arguments.of("nonce", (Function<EncryptedRequest, ByteBuffer>) EncryptedRequest::getNonce,
                        (BiConsumer<EncryptedRequest.Builder, ByteBuffer>) EncryptedRequest.Builder::setNonce),
                Arguments.of("wrapped DEK", (Function<EncryptedRequest, ByteBuffer>) EncryptedRequest::getWrappedDek,
                        (BiConsumer<EncryptedRequest.Builder, ByteBuffer>) EncryptedRequest.Builder::setWrappedDek));
    }

    @ParameterizedTest(name = "every flipped bit of the {0} is detected")
    @MethodSource("binaryFields")
    void everyFlippedBitOfABinaryFieldIsDetected(String field, Function<EncryptedRequest, ByteBuffer> get,
                                                  BiConsumer<EncryptedRequest.Builder, ByteBuffer> set) {
        byte[] bytes = Bytes.of(get.apply(original));
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] flipped = bytes.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            EncryptedRequest.Builder builder = copy();
            set.accept(builder, ByteBuffer.wrap(flipped));
            EncryptedRequest tampered = builder.build();

            int at = bit;
            assertThatThrownBy(() -> opener.open(TOPIC, tampered))
                    .as("bit %d of the %s", at, field)
                    .isInstanceOf(TamperedEnvelopeException.class)
                    .extracting(e -> ((EnvelopeException) e).reason())
                    .isEqualTo(ErrorCode.TAMPERED);
        }
    }

    @Test
    void aChangedRequestIdIsDetected() {
        EncryptedRequest moved = copy().setRequestId("req-2").build();

        assertTampered(moved);
    }

    @Test
    void aChangedClientIdIsDetected() {
        EncryptedRequest moved = copy().setClientId("mallory").build();

        assertTampered(moved);
    }

    @Test
    void aChangedResponseTopicIsDetected() {
        EncryptedRequest redirected = copy().setResponseTopic("sealstream.responses.mallory").build();

        assertTampered(redirected);
    }

    @Test
    void aChangedSessionIdIsDetected() {
        EncryptedRequest moved = copy().setSessionId(original.getSessionId().replace('-', '_')).build();

        assertTampered(moved);
    }

    @Test
    void aChangedCreationTimeIsDetected() {
        EncryptedRequest backdated = copy().setCreatedAt(original.getCreatedAt().minusMillis(1)).build();

        assertTampered(backdated);
    }

    @Test
    void aChangedKeyIdIsReportedAsAnUnknownKey() {
        EncryptedRequest rekeyed = copy().setKeyId(original.getKeyId() ^ 1).build();

        UnknownKeyException e = catchThrowableOfType(UnknownKeyException.class, () -> opener.open(TOPIC, rekeyed));
        assertThat(e.keyId()).isEqualTo(rekeyed.getKeyId());
        assertThat(e.reason()).isEqualTo(ErrorCode.UNKNOWN_KEY);
    }

    @Test
    void aChangedVersionIsReportedAsUnsupported() {
        EncryptedRequest future = copy().setVersion(2).build();

        assertThatThrownBy(() -> opener.open(TOPIC, future))
                .isInstanceOf(MalformedEnvelopeException.class)
                .extracting(e -> ((EnvelopeException) e).reason())
                .isEqualTo(ErrorCode.UNSUPPORTED_VERSION);
    }

    @Test
    void aRecordMovedToAnotherTopicIsRefused() {
        TopicKeyset otherTopic = TopicKeyset.generate("sealstream.requests.other", Instant.now());
        opener.install(otherTopic);

        assertThatThrownBy(() -> opener.open("sealstream.requests.other", original))
                .isInstanceOf(UnknownKeyException.class);
    }

    @Test
    void aRecordReadFromATopicWithoutKeysIsRefused() {
        assertThatThrownBy(() -> opener.open("other.requests.unprovisioned", original))
                .isInstanceOf(UnknownKeyException.class)
                .hasMessageContaining("other.requests.unprovisioned");
    }

    @Test
    void aTruncatedNonceIsMalformed() {
        EncryptedRequest shortNonce = copy().setNonce(ByteBuffer.wrap(new byte[8])).build();

        assertThatThrownBy(() -> opener.open(TOPIC, shortNonce))
                .isInstanceOf(MalformedEnvelopeException.class)
                .hasMessageContaining("8-byte nonce");
    }

    @Test
    void aChangedResponseStatusIsDetectedByTheClient() throws Exception {
        EncryptedResponse sealed = opener.open(TOPIC, original)
                .sealResponse(Fixtures.embeddingResult(1f), Instant.now());
        EncryptedResponse response = EncryptedResponse.newBuilder(sealed).setStatus(ResponseStatus.ERROR).build();

        assertThatThrownBy(() -> session.open(response)).isInstanceOf(TamperedEnvelopeException.class);
    }

    @Test
    void everyFlippedBitOfAResponseCiphertextIsDetected() throws Exception {
        EncryptedResponse response = opener.open(TOPIC, original)
                .sealResponse(Fixtures.embeddingResult(1f, 2f), Instant.now());
        byte[] bytes = Bytes.of(response.getCiphertext());
        for (int bit = 0; bit < bytes.length * 8; bit++) {
            byte[] flipped = bytes.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            EncryptedResponse tampered = EncryptedResponse.newBuilder(response)
                    .setCiphertext(ByteBuffer.wrap(flipped)).build();

            assertThatThrownBy(() -> session.open(tampered)).isInstanceOf(TamperedEnvelopeException.class);
        }
    }

    @Test
    void aResponseOpensWithTheProvenanceOfTheLeaseItWasSealedUnder() throws Exception {
        RequestOpener attested = RequestOpener.builder().modelDigests(java.util.Map.of(Fixtures.MODEL, "ab".repeat(32)))
                .build(keyset);
        attested.installLease(new WorkerLease("lease-1", 7, "snp", "cd".repeat(48)));

        OpenedResponse opened = session.open(attested.open(TOPIC, original)
                .sealResponse(Fixtures.embeddingResult(1f), Instant.now()));

        assertThat(opened.provenance().getLeaseId()).isEqualTo("lease-1");
        assertThat(opened.provenance().getLeaseLogIndex()).isEqualTo(7);
        assertThat(opened.provenance().getMeasurement()).isEqualTo("cd".repeat(48));
        assertThat(opened.provenance().getModelDigest()).isEqualTo("ab".repeat(32));
    }

    @Test
    void aLeaseGrantWithFieldsNoKeyBrokerSendsIsRefusedBeforeAnyResponseCarriesIt() {
        assertThatThrownBy(() -> new WorkerLease("lease-1\u001b[2J", 7, "snp", "cd".repeat(48)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WorkerLease("lease-1", 7, "snp", "x".repeat(10_000)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WorkerLease("lease-1", 7, "SNP\n", "cd".repeat(48)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aResponseWithSwappedProvenanceFailsToOpen() throws Exception {
        RequestOpener attested = RequestOpener.builder().build(keyset);
        attested.installLease(new WorkerLease("lease-1", 7, "snp", "cd".repeat(48)));
        EncryptedResponse sealed = attested.open(TOPIC, original).sealResponse(Fixtures.embeddingResult(1f), Instant.now());
        io.sealstream.schemas.v1.Provenance other = io.sealstream.schemas.v1.Provenance.newBuilder(sealed.getProvenance())
                .setLeaseId("lease-2").setMeasurement("ee".repeat(48)).build(); // another worker's lease

        EncryptedResponse swapped = EncryptedResponse.newBuilder(sealed).setProvenance(other).build();
        EncryptedResponse stripped = EncryptedResponse.newBuilder(sealed).setProvenance(null).build();

        assertThatThrownBy(() -> session.open(swapped)).isInstanceOf(TamperedEnvelopeException.class);
        assertThatThrownBy(() -> session.open(stripped)).isInstanceOf(TamperedEnvelopeException.class);
    }

    @Test
    void errorMessagesNameTheFailureAndTheRemedyButNoPlaintext() {
        EncryptedRequest moved = copy().setClientId("mallory").build();

        assertThatThrownBy(() -> opener.open(TOPIC, moved))
                .hasMessageContaining("tampered")
                .hasMessageContaining("re-send")
                .hasMessageNotContaining(CANARY);
    }

    private void assertTampered(EncryptedRequest record) {
        assertThatThrownBy(() -> opener.open(TOPIC, record))
                .isInstanceOf(TamperedEnvelopeException.class)
                .extracting(e -> ((EnvelopeException) e).reason())
                .isEqualTo(ErrorCode.TAMPERED);
    }

    private EncryptedRequest.Builder copy() {
        return EncryptedRequest.newBuilder(original);
    }
}
