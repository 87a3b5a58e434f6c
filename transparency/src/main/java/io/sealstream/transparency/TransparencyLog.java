package io.sealstream.transparency;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The transparency log on disk: entries appended to {@code log.entries} (each a 4-byte big-endian
 * length and the entry's canonical bytes, forced to disk before the append returns), the Merkle
 * tree over them, and the last signed tree head in {@code log.head}. The disk is the host's, so on
 * open the log recomputes the tree and requires it to match the head it signed last: entries
 * changed, removed or reordered on disk stop it with {@link LogIntegrityException} instead of being
 * served. Entries past the signed head are dropped: an append returns only after its head is saved,
 * so they were never acknowledged (a crash between the two), or someone else wrote them.
 *
 * <p>Appends and reads are serialised.
 */
public final class TransparencyLog implements Closeable, LogMonitor.LogSource {
    static final String ENTRIES = "log.entries";
    static final String HEAD = "log.head";

    private final Path dir;
    private final PrivateKey signingKey;
    private final Clock clock;
    private final MerkleTree tree = new MerkleTree();
    private final List<byte[]> entries = new ArrayList<>();
    /** Where each entry's record starts in the file. */
    private final List<Long> offsets = new ArrayList<>();
    private final FileChannel out;
    private SignedTreeHead head;

    private TransparencyLog(Path dir, PrivateKey signingKey, Clock clock, FileChannel out) {
        this.dir = dir;
        this.signingKey = signingKey;
        this.clock = clock;
        this.out = out;
    }

    /** A log that holds entries and signs heads whose tree does not match its entries. */
    public static final class LogIntegrityException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        LogIntegrityException(String message) {
            super(message);
        }
    }

    /**
     * Opens (or creates) the log in {@code dir}, signing heads with {@code signingKey}; the head on
     * disk must verify with {@code logKey} and match the entries.
     *
     * @throws LogIntegrityException when the entries on disk are not those the last head signed
     */
    public static TransparencyLog open(Path dir, PrivateKey signingKey, PublicKey logKey, Clock clock) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(ENTRIES);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        TransparencyLog log = new TransparencyLog(dir, signingKey, clock, channel);
        try {
            long valid = log.load(channel);
            Path headFile = dir.resolve(HEAD);
            if (Files.exists(headFile)) {
                SignedTreeHead saved = TreeHeadCodec.read(Files.readAllBytes(headFile));
                if (!saved.verify(logKey)) {
                    throw new LogIntegrityException("the log's saved tree head is not signed by the log key: it was "
                            + "replaced on disk; restore the log directory from a copy whose head verifies");
                }
                if (saved.size() > log.tree.size() || !java.security.MessageDigest.isEqual(
                        log.tree.rootHash(saved.size()), saved.rootHash())) {
                    throw new LogIntegrityException("the log's entries on disk (" + log.tree.size() + ") are not those its "
                            + "signed head of size " + saved.size() + " commits to: entries were changed, removed or "
                            + "reordered; restore the log directory from a copy that matches its head");
                }
                valid = log.keep(saved.size(), valid);
            } else {
                valid = log.keep(0, valid); // no head was ever saved: no entry was ever acknowledged
            }
            channel.truncate(valid);
            channel.position(valid);
            log.signHead();
            return log;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Reads the entries file; returns the length of its complete records. */
    private long load(FileChannel channel) throws IOException {
        long position = 0;
        long size = channel.size();
        ByteBuffer length = ByteBuffer.allocate(4);
        while (position + 4 <= size) {
            length.clear();
            channel.read(length, position);
            int n = length.flip().getInt();
            if (n <= 0 || n > LogEntry.MAX_BYTES) {
                throw new LogIntegrityException("the log's entries file has a record of " + n + " bytes at offset " + position
                        + ": it is not a log written by this version; restore the log directory");
            }
            if (position + 4 + n > size) {
                break; // the tail of an append that never returned
            }
            ByteBuffer entry = ByteBuffer.allocate(n);
            channel.read(entry, position + 4);
            byte[] bytes = entry.array();
            try {
                LogEntry.parse(bytes);
            } catch (RuntimeException e) {
                throw new LogIntegrityException("the log entry at offset " + position + " is not a canonical entry ("
                        + e.getMessage() + "); restore the log directory");
            }
            entries.add(bytes);
            offsets.add(position);
            tree.append(bytes);
            position += 4 + n;
        }
        return position;
    }

    /** Keeps the first {@code count} entries; returns where the file then ends. */
    private long keep(long count, long end) {
        if (count == entries.size()) {
            return end;
        }
        long cut = offsets.get(Math.toIntExact(count));
        entries.subList(Math.toIntExact(count), entries.size()).clear();
        offsets.subList(Math.toIntExact(count), offsets.size()).clear();
        MerkleTree kept = new MerkleTree();
        entries.forEach(kept::append);
        tree.replaceWith(kept);
        return cut;
    }

    /** Appends {@code entry}, forces it to disk and signs the new head; returns the entry's index. */
    public synchronized long append(LogEntry entry) {
        byte[] bytes = entry.bytes();
        try {
            ByteBuffer record = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
            while (record.hasRemaining()) {
                out.write(record);
            }
            out.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the transparency log in " + dir, e);
        }
        try {
            offsets.add(out.position() - 4 - bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        entries.add(bytes);
        long index = tree.append(bytes);
        signHead();
        return index;
    }

    private void signHead() {
        head = SignedTreeHead.sign(tree.size(), clock.instant(), tree.rootHash(tree.size()), signingKey);
        try {
            Path tmp = dir.resolve(HEAD + ".tmp");
            Files.write(tmp, TreeHeadCodec.write(head));
            Files.move(tmp, dir.resolve(HEAD), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the transparency log's head in " + dir, e);
        }
    }

    /** The latest signed tree head. */
    @Override
    public synchronized SignedTreeHead head() {
        return head;
    }

    /** The entry at {@code index}. */
    public synchronized LogEntry entry(long index) {
        return LogEntry.parse(entries.get(Math.toIntExact(index)));
    }

    /** The inclusion proof of entry {@code index} in the tree of {@code size}. */
    @Override
    public synchronized List<byte[]> inclusionProof(long index, long size) {
        return tree.inclusionProof(index, size);
    }

    /** The consistency proof from the tree of {@code first} entries to that of {@code second}. */
    @Override
    public synchronized List<byte[]> consistencyProof(long first, long second) {
        return tree.consistencyProof(first, second);
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }
}
