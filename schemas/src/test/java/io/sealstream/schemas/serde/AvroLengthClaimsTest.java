package io.sealstream.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/** Every length and count an encoding claims is checked against the bytes present, allocating nothing. */
class AvroLengthClaimsTest {
    private static final Schema REQUEST = InferenceRequest.getClassSchema();

    @Test
    void wellFormedRecordsPass() throws Exception {
        byte[] embeddings = encode(embed("a", "bb", "ccc"));
        byte[] chat = encode(InferenceRequest.newBuilder().setModel("m").setTask(new ChatInput(
                List.of(new ChatMessage(ChatRole.user, "hello")), new ChatParameters(16, 0.5f, null, List.of("x"), 7L, false)))
                .build());

        assertThatCode(() -> AvroLengthClaims.check(REQUEST, embeddings, 0, embeddings.length)).doesNotThrowAnyException();
        assertThatCode(() -> AvroLengthClaims.check(REQUEST, chat, 0, chat.length)).doesNotThrowAnyException();
    }

    @Test
    void aStringClaimingMoreBytesThanRemainIsRefused() {
        // model: a string claiming 2^31 - 1 bytes, followed by one byte
        byte[] hostile = {(byte) 0xFE, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 'x'};

        assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, hostile, 0, hostile.length))
                .isInstanceOf(IOException.class).hasMessageContaining("claims more than the 6 bytes present");
    }

    @Test
    void aNegativeLengthIsRefused() {
        byte[] hostile = {0x01, 'x'}; // zigzag 1 = -1

        assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, hostile, 0, hostile.length))
                .isInstanceOf(IOException.class).hasMessageContaining("claims length -1");
    }

    @Test
    void anArrayClaimingMoreItemsThanBytesIsRefused() {
        // model "m", task union index 0 (embeddings), input array block of 2^30 items
        byte[] hostile = {0x02, 'm', 0x00, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08, 0x02, 'a', 0x00};

        assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, hostile, 0, hostile.length))
                .isInstanceOf(IOException.class).hasMessageContaining("items in fewer bytes");
    }

    @Test
    void aUnionIndexOutOfRangeIsRefused() {
        byte[] hostile = {0x02, 'm', 0x08}; // branch 4 of a two-branch union

        assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, hostile, 0, hostile.length))
                .isInstanceOf(IOException.class).hasMessageContaining("index 4");
    }

    @Test
    void bytesAfterTheRecordAreRefused() throws Exception {
        byte[] valid = encode(embed("a"));
        byte[] longer = java.util.Arrays.copyOf(valid, valid.length + 1);

        assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, longer, 0, longer.length))
                .isInstanceOf(IOException.class).hasMessageContaining("bytes follow");
    }

    @Test
    void everyTruncationOfAValidRecordIsRefused() throws Exception {
        byte[] valid = encode(embed("alpha", "beta"));
        for (int n = 0; n < valid.length; n++) {
            int length = n;
            assertThatThrownBy(() -> AvroLengthClaims.check(REQUEST, valid, 0, length)).as("first %d bytes", n)
                    .isInstanceOf(IOException.class);
        }
    }

    @Test
    void avrosOwnAllocationLimitsAreSetOnceTheDeserializerIsLoaded() {
        new ConfluentAvroDeserializer<>(InferenceRequest.class);

        assertThatThrownBy(() -> SystemLimitException.checkMaxBytesLength(AvroLengthClaims.SYSTEM_MAX_BYTES + 1L))
                .isInstanceOf(SystemLimitException.class);
        assertThat(SystemLimitException.checkMaxBytesLength(AvroLengthClaims.SYSTEM_MAX_BYTES))
                .isEqualTo(AvroLengthClaims.SYSTEM_MAX_BYTES);
    }

    @Test
    void everySealstreamSchemaHasAnAcceptedShape() {
        for (Schema schema : List.of(REQUEST, io.sealstream.schemas.v1.InferenceResponse.getClassSchema(),
                io.sealstream.schemas.v1.EncryptedRequest.getClassSchema(),
                io.sealstream.schemas.v1.EncryptedResponse.getClassSchema())) {
            assertThatCode(() -> AvroLengthClaims.checkShape(schema)).as(schema.getName()).doesNotThrowAnyException();
        }
    }

    @Test
    void aRecursiveWriterSchemaIsRefusedBeforeAnyRecordIsWalked() {
        Schema recursive = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"EncryptedRequest\","
                + "\"namespace\":\"io.sealstream.schemas.v1\",\"fields\":[{\"name\":\"next\","
                + "\"type\":[\"null\",\"EncryptedRequest\"]}]}");

        assertThatThrownBy(() -> AvroLengthClaims.checkShape(recursive)).isInstanceOf(IOException.class)
                .hasMessageContaining("contains itself");
    }

    @Test
    void aTypeThatContainsItselfInsideAnArrayIsRefusedWithoutOverflowingTheStack() {
        Schema cyclic = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                + "{\"name\":\"e\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
                + "\"name\":\"X\",\"fields\":[{\"name\":\"n\",\"type\":\"X\"}]}}}]}");

        assertThatThrownBy(() -> AvroLengthClaims.checkShape(cyclic)).isInstanceOf(IOException.class)
                .hasMessageContaining("contains itself");
    }

    @Test
    void arrayItemsWithManyMoreTypesThanBytesAreRefused() {
        StringBuilder nulls = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            nulls.append(",{\"name\":\"n").append(i).append("\",\"type\":\"null\"}");
        }
        Schema expensive = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                + "{\"name\":\"e\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
                + "\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}" + nulls + "]}}}]}");

        assertThatThrownBy(() -> AvroLengthClaims.checkShape(expensive)).isInstanceOf(IOException.class)
                .hasMessageContaining("many more types than bytes");
    }

    @Test
    void anArrayOfItemsThatTakeNoBytesIsRefused() {
        Schema nulls = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                + "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\","
                + "\"name\":\"E\",\"fields\":[{\"name\":\"n\",\"type\":\"null\"}]}}}]}");

        assertThatThrownBy(() -> AvroLengthClaims.checkShape(nulls)).isInstanceOf(IOException.class)
                .hasMessageContaining("take no bytes");
    }

    @Test
    void aSchemaWithThousandsOfFieldsIsRefused() {
        StringBuilder fields = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            fields.append(i == 0 ? "" : ",").append("{\"name\":\"f").append(i).append("\",\"type\":\"null\"}");
        }
        Schema wide = new Schema.Parser().parse("{\"type\":\"record\",\"name\":\"W\",\"fields\":[" + fields + "]}");

        assertThatThrownBy(() -> AvroLengthClaims.checkShape(wide)).isInstanceOf(IOException.class)
                .hasMessageContaining("type nodes");
    }

    private static InferenceRequest embed(String... texts) {
        return InferenceRequest.newBuilder().setModel("m").setTask(new EmbeddingsInput(List.of(texts))).build();
    }

    private static byte[] encode(InferenceRequest r) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<>(InferenceRequest.class).write(r, e);
        e.flush();
        return out.toByteArray();
    }
}
