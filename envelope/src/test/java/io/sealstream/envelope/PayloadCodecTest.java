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

    private static byte[] singleObject(byte[] body) {
        long fingerprint = SchemaNormalization.parsingFingerprint64(
                io.sealstream.schemas.v1.InferenceRequest.getClassSchema());
        return ByteBuffer.allocate(10 + body.length).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3).put((byte) 0x01).putLong(fingerprint).put(body).array();
    }
}
