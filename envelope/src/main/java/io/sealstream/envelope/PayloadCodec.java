package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.serde.AvroLengthClaims;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Encodes the plaintext inside the envelope as Avro single-object encoding: a schema fingerprint
 * precedes the binary body, so a reader can tell an older writer schema apart (docs/schemas.md).
 */
final class PayloadCodec {
    private static final int SINGLE_OBJECT_HEADER = 10;
    /** Every InferenceRequest schema this reader resolves, by fingerprint: its own and the earlier ones. */
    private static final java.util.Map<Long, Schema> REQUEST_SCHEMAS = requestSchemas();
    /** Decodes requests of any schema in {@link #REQUEST_SCHEMAS} into this reader's. */
    private static final org.apache.avro.message.BinaryMessageDecoder<InferenceRequest> REQUEST_DECODER = requestDecoder();
    private static final java.util.Map<Long, Schema> RESPONSE_SCHEMAS = java.util.Map.of(
            SchemaNormalization.parsingFingerprint64(InferenceResponse.getClassSchema()), InferenceResponse.getClassSchema());

    static {
        AvroLengthClaims.installSystemLimits();
    }

    private PayloadCodec() {
    }

    /**
     * A request that does not stream is written with the schema before {@code ChatParameters.stream}
     * ({@code InferenceRequest-1}), which it fits exactly: a worker of the previous release reads it,
     * so clients can be upgraded before workers. Only a streamed request needs the new schema, and
     * a worker that knows it (docs/schemas.md).
     */
    private static final org.apache.avro.message.BinaryMessageEncoder<InferenceRequest> REQUEST_V1_ENCODER =
            new org.apache.avro.message.BinaryMessageEncoder<>(
                    org.apache.avro.specific.SpecificData.getForClass(InferenceRequest.class),
                    io.sealstream.schemas.SchemaHistory.inferenceRequest().get(0));

    /** Whether {@code request} is a chat that asks to have its answer streamed. */
    static boolean asksToStream(InferenceRequest request) {
        return request.getTask() instanceof io.sealstream.schemas.v1.ChatInput chat && chat.getParameters().getStream();
    }

    static byte[] encode(InferenceRequest request) {
        try {
            return bytes((asksToStream(request) ? InferenceRequest.getEncoder() : REQUEST_V1_ENCODER).encode(request));
        } catch (IOException e) {
            throw new UncheckedIOException("encoding an inference request in memory failed", e);
        }
    }

    static byte[] encode(InferenceResponse response) {
        try {
            return bytes(InferenceResponse.getEncoder().encode(response));
        } catch (IOException e) {
            throw new UncheckedIOException("encoding an inference response in memory failed", e);
        }
    }

    static InferenceRequest decodeRequest(byte[] plaintext, ResponseSealer sealer) throws MalformedEnvelopeException {
        try {
            checkLengthClaims(REQUEST_SCHEMAS, plaintext);
            return REQUEST_DECODER.decode(plaintext);
        } catch (IOException | RuntimeException e) {
            // The decoder's message could quote decoded bytes; keep only the exception type.
            throw new MalformedEnvelopeException(ErrorCode.UNDECODABLE, "the authenticated payload of request "
                    + sealer.requestId()
                    + " is not an InferenceRequest this worker knows (" + e.getClass().getSimpleName()
                    + "); the client may use a newer schema", sealer);
        }
    }

    static InferenceResponse decodeResponse(byte[] plaintext, String requestId) throws MalformedEnvelopeException {
        try {
            checkLengthClaims(RESPONSE_SCHEMAS, plaintext);
            return InferenceResponse.getDecoder().decode(plaintext);
        } catch (IOException | RuntimeException e) {
            throw new MalformedEnvelopeException(ErrorCode.UNDECODABLE, "the authenticated payload of the response to "
                    + requestId + " is not an InferenceResponse this client knows (" + e.getClass().getSimpleName()
                    + "); the worker may use a newer schema: upgrade the client");
        }
    }

    private static java.util.Map<Long, Schema> requestSchemas() {
        java.util.Map<Long, Schema> all = new java.util.HashMap<>();
        all.put(SchemaNormalization.parsingFingerprint64(InferenceRequest.getClassSchema()), InferenceRequest.getClassSchema());
        for (Schema earlier : io.sealstream.schemas.SchemaHistory.inferenceRequest()) {
            all.put(SchemaNormalization.parsingFingerprint64(earlier), earlier);
        }
        return java.util.Map.copyOf(all);
    }

    private static org.apache.avro.message.BinaryMessageDecoder<InferenceRequest> requestDecoder() {
        org.apache.avro.message.BinaryMessageDecoder<InferenceRequest> d = InferenceRequest.createDecoder(null);
        io.sealstream.schemas.SchemaHistory.inferenceRequest().forEach(d::addSchema);
        return d;
    }

    /**
     * Single-object encoding is 0xC3 0x01, the writer schema's 8-byte CRC-64-AVRO fingerprint
     * (little-endian), then the body. A body written with a schema this reader knows (its own, and
     * for requests every schema of {@link io.sealstream.schemas.SchemaHistory}) has its length
     * claims checked against that schema before Avro allocates anything; any other fingerprint
     * fails in the decoder, which has no schema to resolve it with, before it reads the body.
     */
    private static void checkLengthClaims(java.util.Map<Long, Schema> known, byte[] payload) throws IOException {
        if (payload.length >= SINGLE_OBJECT_HEADER) {
            Schema writer = known.get(ByteBuffer.wrap(payload, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
            if (writer != null) {
                AvroLengthClaims.check(writer, payload, SINGLE_OBJECT_HEADER, payload.length - SINGLE_OBJECT_HEADER);
            }
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
