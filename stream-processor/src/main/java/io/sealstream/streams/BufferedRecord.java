package io.sealstream.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A request record as the batch buffer keeps it: the original key and value bytes, untouched, so
 * the changelog holds exactly the ciphertext that was on the request topic. Layout: 4-byte key
 * length (-1 for a null key), key bytes, value bytes.
 */
record BufferedRecord(String key, byte[] value) {

    static byte[] encode(String key, byte[] value) {
        byte[] k = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value == null ? new byte[0] : value;
        ByteBuffer out = ByteBuffer.allocate(4 + (k == null ? 0 : k.length) + v.length);
        out.putInt(k == null ? -1 : k.length);
        if (k != null) {
            out.put(k);
        }
        return out.put(v).array();
    }

    static BufferedRecord decode(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int keyLength = in.getInt();
        String key = null;
        if (keyLength >= 0) {
            byte[] k = new byte[keyLength];
            in.get(k);
            key = new String(k, StandardCharsets.UTF_8);
        }
        byte[] value = new byte[in.remaining()];
        in.get(value);
        return new BufferedRecord(key, value);
    }
}
