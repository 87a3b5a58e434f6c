package io.sealstream.transparency;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The transparency log on disk: entries appended to {@code log.entries} (each a 4-byte big-endian
 * length and the entry's canonical bytes), the Merkle tree over them, and the last signed tree head
 * in {@code log.head}. An append forces its record to disk, then writes, forces and renames the new
 * head into place, and only then serves it; one that fails is undone, so no head is ever shown that
 * the disk does not hold.
 *
 * <p>The disk is the host's. On open the log reads the head first, requires it to verify with the
 * log key, and requires the entries it covers to hash to its root: entries changed, removed or
 * reordered stop the log ({@link LogIntegrityException}) instead of being served. After the head
 * there may be the remains of at most one append that crashed before its head was saved (a record,
 * part of one, or zeros): they were never acknowledged and are dropped. More than that, entries
 * without any head, or a head that does not verify, stop the log: they are not a crash but an
 * edit. (A host that restores both files to an older, consistent state cannot be told from a log
 * that never grew without storage the host cannot roll back; clients holding a later head detect it.)
 *
 * <p>Appends and reads are serialised; a second process on the same directory is refused.
 */
public final class TransparencyLog implements Closeable, LogMonitor.LogSource {
    static final String ENTRIES = "log.entries";
    static final String HEAD = "log.head";

    private final Path dir;
    private final PrivateKey signingKey;
    private final Clock clock;
    private final MerkleTree tree = new MerkleTree();
    private final List<byte[]> entries = new ArrayList<>();
    private final FileChannel out;
    private final FileLock lock;
    private SignedTreeHead head;
    private Instant lastEntryAt = Instant.EPOCH;

    private TransparencyLog(Path dir, PrivateKey signingKey, Clock clock, FileChannel out, FileLock lock) {
        this.dir = dir;
        this.signingKey = signingKey;
        this.clock = clock;
        this.out = out;
        this.lock = lock;
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
     * @throws LogIntegrityException when the files on disk are not what the log wrote
     */
    public static TransparencyLog open(Path dir, PrivateKey signingKey, PublicKey logKey, Clock clock) throws IOException {
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve(ENTRIES), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new IllegalStateException("another process holds the transparency log in " + dir);
        }
        TransparencyLog log = new TransparencyLog(dir, signingKey, clock, channel, lock);
        try {
            Path headFile = dir.resolve(HEAD);
            long covered = 0;
            if (Files.exists(headFile)) {
                SignedTreeHead saved = TreeHeadCodec.read(Files.readAllBytes(headFile));
                if (!saved.verify(logKey)) {
                    throw new LogIntegrityException("the log's saved tree head is not signed by the log key: it was "
                            + "replaced on disk; restore the log directory from a copy whose head verifies");
                }
                covered = log.load(channel, saved.size());
                if (!MessageDigest.isEqual(log.tree.rootHash(saved.size()), saved.rootHash())) {
                    throw new LogIntegrityException("the log's entries on disk are not those its signed head of size "
                            + saved.size() + " commits to: entries were changed, removed or reordered; restore the log "
                            + "directory from a copy that matches its head");
                }
                log.head = saved;
            }
            int complete = completeRecordsAfter(channel, covered);
            if (complete < 0 || complete > (log.head == null ? 0 : 1)) {
                throw new LogIntegrityException("the log's entries file holds " + (complete < 0 ? "more" : complete)
                        + " records after the entries its " + (log.head == null ? "(missing) head" : "head")
                        + " covers, more than one interrupted append leaves: it was written by someone else; restore the "
                        + "log directory");
            }
            channel.truncate(covered); // the remains of an append that never returned
            channel.position(covered);
            if (log.head == null) {
                log.signHead();
            }
            return log;
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
    }

    /**
     * How many complete records follow {@code from}: 0 or 1 is what a crashed append leaves (with
     * perhaps part of a record or zeros after it); -1 when a complete record is followed by more bytes.
     */
    private static int completeRecordsAfter(FileChannel channel, long from) throws IOException {
        long position = from;
        int complete = 0;
        while (position + 4 <= channel.size()) {
            int n = readFully(channel, 4, position).getInt();
            if (n <= 0 || n > LogEntry.MAX_BYTES || position + 4 + n > channel.size()) {
                break;
            }
            complete++;
            position += 4 + n;
        }
        return complete == 1 && position < channel.size() ? -1 : complete;
    }

    /** Reads exactly {@code count} records from the start; returns where they end. */
    private long load(FileChannel channel, long count) throws IOException {
        long position = 0;
        for (long i = 0; i < count; i++) {
            if (position + 4 > channel.size()) {
                throw new LogIntegrityException("the log's entries file ends after " + i + " entries; its head covers "
                        + count + ": entries were removed; restore the log directory");
            }
            int n = readFully(channel, 4, position).getInt();
            if (n <= 0 || n > LogEntry.MAX_BYTES || position + 4 + n > channel.size()) {
                throw new LogIntegrityException("the log's entry " + i + " at offset " + position + " says " + n
                        + " bytes, which the file does not hold; restore the log directory");
            }
            byte[] bytes = readFully(channel, n, position + 4).array();
            LogEntry entry;
            try {
                entry = LogEntry.parse(bytes);
            } catch (RuntimeException e) {
                throw new LogIntegrityException("the log's entry " + i + " at offset " + position + " is not a canonical "
                        + "entry; restore the log directory");
            }
            entries.add(bytes);
            tree.append(bytes);
            lastEntryAt = entry.at();
            position += 4 + n;
        }
        return position;
    }

    private static ByteBuffer readFully(FileChannel channel, int n, long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) {
                throw new LogIntegrityException("the log's entries file ended inside a record; restore the log directory");
            }
        }
        return b.flip();
    }

    /**
     * Appends {@code entry}, forces it and its new head to disk, and only then serves the head;
     * returns the entry's index. An entry's time may not be earlier than the previous entry's nor
     * later than now, so times in the log only move forward.
     *
     * @throws UncheckedIOException when the disk refuses; the log is then as it was before
     */
    public synchronized long append(LogEntry entry) {
        Instant now = clock.instant();
        if (entry.at().isBefore(lastEntryAt) || entry.at().isAfter(now)) {
            throw new IllegalArgumentException("a log entry's time is between the previous entry's (" + lastEntryAt
                    + ") and now (" + now + "), not " + entry.at());
        }
        byte[] bytes = entry.bytes();
        long offset;
        try {
            offset = out.position();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the transparency log in " + dir, e);
        }
        try {
            ByteBuffer record = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
            while (record.hasRemaining()) {
                out.write(record);
            }
            out.force(false);
            tree.append(bytes);
            entries.add(bytes);
            try {
                signHead();
            } catch (UncheckedIOException e) {
                entries.remove(entries.size() - 1);
                MerkleTree kept = new MerkleTree();
                entries.forEach(kept::append);
                tree.replaceWith(kept);
                throw e;
            }
        } catch (IOException | UncheckedIOException e) {
            try {
                out.truncate(offset); // the record is not acknowledged: leave no trace of it
                out.position(offset);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e instanceof UncheckedIOException u ? u
                    : new UncheckedIOException("cannot append to the transparency log in " + dir, (IOException) e);
        }
        lastEntryAt = entry.at();
        return entries.size() - 1L;
    }

    /** Signs the head of the tree as it is, saves it durably, then serves it. */
    private void signHead() {
        SignedTreeHead next = SignedTreeHead.sign(tree.size(), clock.instant(), tree.rootHash(tree.size()), signingKey);
        try {
            DurableFile.replace(dir.resolve(HEAD), TreeHeadCodec.write(next));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the transparency log's head in " + dir, e);
        }
        head = next;
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
        try {
            lock.release();
        } finally {
            out.close();
        }
    }
}
