package io.sealstream.envelope;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The rotation state that travels with a topic keyset: topic, creation and demotion times per
 * key, retired ids, and a version that every change raises (so a holder can refuse to move
 * backwards). Not secret, but always authenticated together with the keys it describes.
 * Encoded deterministically (sorted ids) so the same state always gives the same bytes.
 */
record KeysetMetadata(String topic, Map<Long, Instant> createdAt, Map<Long, Instant> demotedAt, Set<Long> retired,
                      long version) {
    /** Format 2 adds the version; format 1 (written before it) reads as version 0. */
    private static final int FORMAT = 2;

    byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(FORMAT);
            out.writeUTF(topic);
            Map<Long, Instant> created = new TreeMap<>(createdAt);
            out.writeInt(created.size());
            for (var e : created.entrySet()) {
                out.writeLong(e.getKey());
                out.writeLong(e.getValue().toEpochMilli());
                Instant demoted = demotedAt.get(e.getKey());
                out.writeLong(demoted == null ? -1 : demoted.toEpochMilli());
            }
            Set<Long> gone = new TreeSet<>(retired);
            out.writeInt(gone.size());
            for (long id : gone) {
                out.writeLong(id);
            }
            out.writeLong(version);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding keyset metadata in memory failed", e);
        }
        return bytes.toByteArray();
    }

    static KeysetMetadata decode(byte[] encoded) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(encoded))) {
            int format = in.readInt();
            if (format != FORMAT && format != 1) {
                throw new IOException("keyset metadata format " + format + " is neither 1 nor " + FORMAT);
            }
            String topic = in.readUTF();
            int keys = boundedCount(in.readInt());
            Map<Long, Instant> created = new HashMap<>();
            Map<Long, Instant> demoted = new HashMap<>();
            for (int i = 0; i < keys; i++) {
                long id = in.readLong();
                created.put(id, Instant.ofEpochMilli(in.readLong()));
                long d = in.readLong();
                if (d >= 0) {
                    demoted.put(id, Instant.ofEpochMilli(d));
                }
            }
            int retiredCount = boundedCount(in.readInt());
            Set<Long> retired = new HashSet<>();
            for (int i = 0; i < retiredCount; i++) {
                retired.add(in.readLong());
            }
            long version = format == 1 ? 0 : in.readLong();
            if (version < 0) {
                throw new IOException("keyset metadata claims version " + version);
            }
            if (in.available() != 0) {
                throw new IOException("keyset metadata has " + in.available() + " trailing bytes");
            }
            return new KeysetMetadata(topic, created, demoted, retired, version);
        }
    }

    private static int boundedCount(int n) throws IOException {
        if (n < 0 || n > 100_000) {
            throw new IOException("keyset metadata claims " + n + " entries");
        }
        return n;
    }
}
