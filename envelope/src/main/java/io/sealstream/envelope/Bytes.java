package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;
import java.nio.ByteBuffer;

/** Copies Avro {@code bytes} fields without disturbing the buffer, and checks envelope lengths. */
final class Bytes {
    private Bytes() {
    }

    static byte[] of(ByteBuffer buffer) {
        if (buffer == null) {
            return new byte[0];
        }
        ByteBuffer view = buffer.duplicate();
        byte[] out = new byte[view.remaining()];
        view.get(out);
        return out;
    }

    static void requireEnvelopeShape(String requestId, byte[] nonce, byte[] ciphertext)
            throws MalformedEnvelopeException {
        if (nonce.length != EnvelopeProtocol.NONCE_LENGTH) {
            throw new MalformedEnvelopeException(ErrorCode.MALFORMED, "envelope of " + requestId + " has a "
                    + nonce.length + "-byte nonce; v1 uses " + EnvelopeProtocol.NONCE_LENGTH);
        }
        if (ciphertext.length < EnvelopeProtocol.TAG_LENGTH) {
            throw new MalformedEnvelopeException(ErrorCode.MALFORMED, "envelope of " + requestId + " has a "
                    + ciphertext.length + "-byte ciphertext, shorter than the GCM tag");
        }
    }
}
