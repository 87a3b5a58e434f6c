package io.sealstream.envelope;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The canonical byte encoding of clear header fields used as AEAD associated data and HPKE
 * context info. Fields are written in a fixed order, each with a type byte and, for strings, a
 * 4-byte length, so two different headers can never encode to the same bytes.
 */
final class CanonicalAad {
    private static final byte STRING = 's';
    private static final byte LONG = 'l';

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(192);

    private CanonicalAad(String label) {
        string(label);
    }

    /** Starts an encoding whose first field is a domain-separation label. */
    static CanonicalAad labelled(String label) {
        return new CanonicalAad(label);
    }

    CanonicalAad string(String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.write(STRING);
        out.writeBytes(ByteBuffer.allocate(4).putInt(utf8.length).array());
        out.writeBytes(utf8);
        return this;
    }

    CanonicalAad number(long value) {
        out.write(LONG);
        out.writeBytes(ByteBuffer.allocate(8).putLong(value).array());
        return this;
    }

    byte[] toBytes() {
        return out.toByteArray();
    }
}
