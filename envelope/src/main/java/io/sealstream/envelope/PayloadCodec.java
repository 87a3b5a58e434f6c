package io.sealstream.envelope;

import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * Encodes the plaintext inside the envelope as Avro single-object encoding: a schema fingerprint
 * precedes the binary body, so a reader can tell an older writer schema apart (docs/schemas.md).
 */
final class PayloadCodec {
    private PayloadCodec() {
    }

    static byte[] encode(InferenceRequest request) {
        try {
            return bytes(InferenceRequest.getEncoder().encode(request));
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
            return InferenceRequest.getDecoder().decode(plaintext);
        } catch (IOException | RuntimeException e) {
            // The decoder's message could quote decoded bytes; keep only the exception type.
            throw new MalformedEnvelopeException(ReasonCode.UNDECODABLE, "the authenticated payload of request "
                    + sealer.requestId()
                    + " is not an InferenceRequest this worker knows (" + e.getClass().getSimpleName()
                    + "); the client may use a newer schema", sealer);
        }
    }

    static InferenceResponse decodeResponse(byte[] plaintext, String requestId) throws MalformedEnvelopeException {
        try {
            return InferenceResponse.getDecoder().decode(plaintext);
        } catch (IOException | RuntimeException e) {
            throw new MalformedEnvelopeException(ReasonCode.UNDECODABLE, "the authenticated payload of the response to "
                    + requestId + " is not an InferenceResponse this client knows (" + e.getClass().getSimpleName()
                    + "); the worker may use a newer schema: upgrade the client");
        }
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.get(out);
        return out;
    }
}
