package io.sealstream.transparency;

import java.nio.ByteBuffer;
import java.time.Instant;

/** A signed tree head as stored and sent: size, time (ms), root, signature length and signature, big-endian. */
final class TreeHeadCodec {
    private TreeHeadCodec() {
    }

    static byte[] write(SignedTreeHead h) {
        byte[] sig = h.signature();
        return ByteBuffer.allocate(8 + 8 + 32 + 2 + sig.length).putLong(h.size()).putLong(h.timestamp().toEpochMilli())
                .put(h.rootHash()).putShort((short) sig.length).put(sig).array();
    }

    static SignedTreeHead read(byte[] b) {
        try {
            ByteBuffer in = ByteBuffer.wrap(b);
            long size = in.getLong();
            Instant at = Instant.ofEpochMilli(in.getLong());
            byte[] root = new byte[32];
            in.get(root);
            int n = in.getShort() & 0xFFFF;
            if (n > 256 || n != in.remaining()) {
                throw new IllegalArgumentException("signature length");
            }
            byte[] sig = new byte[n];
            in.get(sig);
            return new SignedTreeHead(size, at, root, sig);
        } catch (java.nio.BufferUnderflowException | IllegalArgumentException e) {
            throw new TransparencyLog.LogIntegrityException("the log's saved tree head cannot be read: it was damaged on "
                    + "disk; restore the log directory");
        }
    }
}
