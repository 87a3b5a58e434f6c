package io.sealstream.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;

/**
 * The plaintext inside an authenticated envelope is as untrusted as the outside: a client (or a
 * tenant that sealed its own record) can put any bytes there. Hostile length claims are refused
 * as undecodable, answered to the client, before Avro allocates the claimed size.
 */
class PayloadCodecTest {
    private final ResponseSealer sealer = new ResponseSealer(RequestHeader.of(EncryptedRequest.newBuilder()
            .setVersion(1).setRequestId("r").setClientId("c").setResponseTopic("t").setSessionId("s").setKeyId(1)
            .setCreatedAt(Instant.now()).setWrappedDek(ByteBuffer.allocate(1)).setNonce(ByteBuffer.allocate(12))
            .setCiphertext(ByteBuffer.allocate(16)).build()), new byte[32], model -> null);

    @Test
    void aModelNameClaimingTwoGibibytesIsUndecodableWithoutAllocatingThem() {
        byte[] body = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 'x'};

        MalformedEnvelopeException e = catchThrowableOfType(MalformedEnvelopeException.class,
                () -> PayloadCodec.decodeRequest(singleObject(body), sealer));

        assertThat(e.reason()).isEqualTo(ErrorCode.UNDECODABLE);
        assertThat(e.responder()).isPresent();
        assertThat(e.getMessage()).contains("IOException");
    }

    @Test
    void anInputArrayClaimingAMillionTimesItsBytesIsUndecodable() {
        byte[] body = {0x02, 'm', 0x00, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 0x02, 'a', 0x00};

        MalformedEnvelopeException e = catchThrowableOfType(MalformedEnvelopeException.class,
                () -> PayloadCodec.decodeRequest(singleObject(body), sealer));

        assertThat(e.reason()).isEqualTo(ErrorCode.UNDECODABLE);
    }

    @Test
    void aValidPayloadStillDecodes() throws Exception {
        byte[] encoded = PayloadCodec.encode(Fixtures.embeddings("hello"));

        assertThat(PayloadCodec.decodeRequest(encoded, sealer).getModel()).isEqualTo(Fixtures.embeddings("x").getModel());
    }

    @Test
    void aChatRequestFromAClientBeforeStreamingDecodesAsNotStreamed() throws Exception {
        org.apache.avro.Schema v1 = io.sealstream.schemas.SchemaHistory.inferenceRequest().get(0);
        org.apache.avro.Schema chatInput = v1.getField("task").schema().getTypes().get(1);
        org.apache.avro.Schema message = chatInput.getField("messages").schema().getElementType();
        org.apache.avro.Schema parameters = chatInput.getField("parameters").schema();
        org.apache.avro.generic.GenericRecord old = new org.apache.avro.generic.GenericRecordBuilder(v1)
                .set("model", "stories260k")
                .set("task", new org.apache.avro.generic.GenericRecordBuilder(chatInput)
                        .set("messages", java.util.List.of(new org.apache.avro.generic.GenericRecordBuilder(message)
                                .set("role", new org.apache.avro.generic.GenericData.EnumSymbol(
                                        message.getField("role").schema(), "user"))
                                .set("content", "Once upon a time").build()))
                        .set("parameters", new org.apache.avro.generic.GenericRecordBuilder(parameters)
                                .set("max_tokens", 8).build())
                        .build())
                .build();
        ByteBuffer encoded = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
                org.apache.avro.generic.GenericData.get(), v1).encode(old);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);

        io.sealstream.schemas.v1.InferenceRequest decoded = PayloadCodec.decodeRequest(bytes, sealer);

        io.sealstream.schemas.v1.ChatInput chat = (io.sealstream.schemas.v1.ChatInput) decoded.getTask();
        assertThat(chat.getMessages().get(0).getContent()).isEqualTo("Once upon a time");
        assertThat(chat.getParameters().getMaxTokens()).isEqualTo(8);
        assertThat(chat.getParameters().getStream()).isFalse();
    }

    @Test
    void aRequestThatDoesNotStreamIsWrittenWithTheEarlierSchemaSoWorkersOfThePreviousReleaseReadIt() throws Exception {
        long v1 = SchemaNormalization.parsingFingerprint64(io.sealstream.schemas.SchemaHistory.inferenceRequest().get(0));
        long current = SchemaNormalization.parsingFingerprint64(io.sealstream.schemas.v1.InferenceRequest.getClassSchema());

        byte[] plain = PayloadCodec.encode(Fixtures.chat("hello"));
        byte[] streamed = PayloadCodec.encode(Fixtures.streamedChat("hello"));

        assertThat(fingerprint(plain)).isEqualTo(v1);
        assertThat(fingerprint(streamed)).isEqualTo(current);
        assertThat(PayloadCodec.decodeRequest(plain, sealer)).isEqualTo(Fixtures.chat("hello"));
        assertThat(PayloadCodec.decodeRequest(streamed, sealer)).isEqualTo(Fixtures.streamedChat("hello"));
    }

    private static long fingerprint(byte[] singleObject) {
        return ByteBuffer.wrap(singleObject, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static byte[] singleObject(byte[] body) {
        long fingerprint = SchemaNormalization.parsingFingerprint64(
                io.sealstream.schemas.v1.InferenceRequest.getClassSchema());
        return ByteBuffer.allocate(10 + body.length).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).put(body).array();
    }
}
