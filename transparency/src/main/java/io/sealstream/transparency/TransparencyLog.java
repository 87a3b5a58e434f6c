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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

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
 * <p>Key-broker replicas that share a data directory share one log, as they share one signing key:
 * an append holds {@code log.lock} (and a lock inside this JVM) while it writes, and every read of
 * the head first takes in what another replica appended, checked like the entries on open, so no
 * replica serves a head older than one a client may already hold. The log stamps each entry with
 * its own clock, never earlier than the entry before, so times in the log only move forward.
 */
public final class TransparencyLog implements Closeable, LogMonitor.LogSource {
    static final String ENTRIES = "log.entries";
    static final String HEAD = "log.head";
    private static final String LOCK = "log.lock";
    /** The most entries one read returns: a caller pages through more. */
    public static final int MAX_ENTRIES_PER_READ = 256;
    /** One lock per directory inside this JVM: {@link FileLock} only excludes other processes. */
    private static final Map<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();

    private final Path dir;
    private final PrivateKey signingKey;
    private final PublicKey logKey;
    private final Clock clock;
    private final MerkleTree tree = new MerkleTree();
    private final List<byte[]> entries = new ArrayList<>();
    private final FileChannel channel;
    /** Where the entries this log holds end in {@code log.entries}. */
    private long covered;
    private SignedTreeHead head;
    private Instant lastEntryAt = Instant.EPOCH;

    private TransparencyLog(Path dir, PrivateKey signingKey, PublicKey logKey, Clock clock, FileChannel channel) {
        this.dir = dir;
        this.signingKey = signingKey;
        this.logKey = logKey;
        this.clock = clock;
        this.channel = channel;
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
        TransparencyLog log = new TransparencyLog(dir, signingKey, logKey, clock, channel);
        try {
            log.exclusive(() -> {
                log.catchUp();
                log.dropInterruptedAppend();
                if (log.head == null) {
                    log.signHead();
                }
                return null;
            });
            return log;
        } catch (IOException | RuntimeException e) {
            log.close();
            throw e;
        }
    }

    /** Whether {@code dir} holds a log: a signed head (a log is never without one once opened). */
    public static boolean exists(Path dir) {
        return Files.exists(dir.resolve(HEAD));
    }

    private interface LockedWork<T> {
        T run() throws IOException;
    }

    /** Runs {@code work} as the only writer of this directory, in this JVM and across processes. */
    private <T> T exclusive(LockedWork<T> work) throws IOException {
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(dir.toRealPath(), d -> new ReentrantLock());
        local.lock();
        try (FileChannel lockFile = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = lockFile.lock()) {
            return work.run();
        } finally {
            local.unlock();
        }
    }

    /**
     * Takes in what the head on disk covers beyond what this log holds (appends by a replica
     * sharing the directory, or everything on open), after checking that the head verifies, only
     * grew, and matches the entries.
     */
    private void catchUp() throws IOException {
        Path headFile = dir.resolve(HEAD);
        if (!Files.exists(headFile)) {
            if (head != null) {
                throw new LogIntegrityException("the log's head file " + headFile + " was removed while the log ran; "
                        + "restore the log directory");
            }
            return;
        }
        SignedTreeHead saved = TreeHeadCodec.read(Files.readAllBytes(headFile));
        if (saved.equals(head)) {
            return;
        }
        if (!saved.verify(logKey)) {
            throw new LogIntegrityException("the log's saved tree head is not signed by the log key: it was "
                    + "replaced on disk; restore the log directory from a copy whose head verifies");
        }
        if (head != null && (saved.size() <= head.size() || saved.timestamp().isBefore(head.timestamp()))) {
            throw new LogIntegrityException("the log's saved tree head (size " + saved.size() + ") is not a later head "
                    + "than the one of size " + head.size() + " this log serves: an older head was put back; restore "
                    + "the log directory");
        }
        int held = entries.size();
        long position = covered;
        try {
            position = load(saved.size());
            if (!MessageDigest.isEqual(tree.rootHash(saved.size()), saved.rootHash())) {
                throw new LogIntegrityException("the log's entries on disk are not those its signed head of size "
                        + saved.size() + " commits to: entries were changed, removed or reordered; restore the log "
                        + "directory from a copy that matches its head");
            }
        } catch (RuntimeException e) {
            forgetFrom(held); // keep serving what was verified
            throw e;
        }
        covered = position;
        head = saved;
    }

    /**
     * Drops what an append that never returned left after the entries the head covers: at most
     * one record (or part of one, or zeros); more is an edit and stops the log.
     */
    private void dropInterruptedAppend() throws IOException {
        int complete = completeRecordsAfter(covered);
        if (complete < 0 || complete > (head == null ? 0 : 1)) {
            throw new LogIntegrityException("the log's entries file holds " + (complete < 0 ? "more" : complete)
                    + " records after the entries its " + (head == null ? "(missing) head" : "head")
                    + " covers, more than one interrupted append leaves: it was written by someone else; restore the "
                    + "log directory");
        }
        if (channel.size() > covered) {
            channel.truncate(covered);
        }
    }

    /**
     * How many complete records follow {@code from}: 0 or 1 is what a crashed append leaves (with
     * perhaps part of a record or zeros after it); -1 when a complete record is followed by more bytes.
     */
    private int completeRecordsAfter(long from) throws IOException {
        long position = from;
        int complete = 0;
        while (position + 4 <= channel.size()) {
            int n = readFully(4, position).getInt();
            if (n <= 0 || n > LogEntry.MAX_BYTES || position + 4 + n > channel.size()) {
                break;
            }
            complete++;
            position += 4 + n;
        }
        return complete == 1 && position < channel.size() ? -1 : complete;
    }

    /** Reads records from {@link #covered} until the log holds {@code count}; returns where they end. */
    private long load(long count) throws IOException {
        long position = covered;
        for (long i = entries.size(); i < count; i++) {
            if (position + 4 > channel.size()) {
                throw new LogIntegrityException("the log's entries file ends after " + i + " entries; its head covers "
                        + count + ": entries were removed; restore the log directory");
            }
            int n = readFully(4, position).getInt();
            if (n <= 0 || n > LogEntry.MAX_BYTES || position + 4 + n > channel.size()) {
                throw new LogIntegrityException("the log's entry " + i + " at offset " + position + " says " + n
                        + " bytes, which the file does not hold; restore the log directory");
            }
            byte[] bytes = readFully(n, position + 4).array();
            LogEntry entry;
            try {
                entry = LogEntry.parse(bytes);
            } catch (RuntimeException e) {
                throw new LogIntegrityException("the log's entry " + i + " at offset " + position + " is not a canonical "
                        + "entry; restore the log directory");
            }
            if (entry.at().isBefore(lastEntryAt)) {
                throw new LogIntegrityException("the log's entry " + i + " is dated before the entry preceding it; "
                        + "entries were reordered; restore the log directory");
            }
            entries.add(bytes);
            tree.append(bytes);
            lastEntryAt = entry.at();
            position += 4 + n;
        }
        return position;
    }

    /** Forgets the entries from {@code index} on (ones read or written that were never acknowledged). */
    private void forgetFrom(int index) {
        while (entries.size() > index) {
            entries.remove(entries.size() - 1);
        }
        MerkleTree kept = new MerkleTree();
        entries.forEach(kept::append);
        tree.replaceWith(kept);
        lastEntryAt = entries.isEmpty() ? Instant.EPOCH : LogEntry.parse(entries.get(entries.size() - 1)).at();
    }

    private ByteBuffer readFully(int n, long at) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b, at + b.position()) < 0) {
                throw new LogIntegrityException("the log's entries file ended inside a record; restore the log directory");
            }
        }
        return b.flip();
    }

    /**
     * Appends an entry of {@code type} with {@code fields}, stamped with the log's clock (never
     * before the previous entry), forces it and its new head to disk, and only then serves the
     * head.
     *
     * @return the entry as appended and its index
     * @throws UncheckedIOException when the disk refuses; the log is then as it was before
     */
    public synchronized Appended append(LogEntry.Type type, Map<String, String> fields) {
        try {
            return exclusive(() -> {
                catchUp();
                dropInterruptedAppend();
                Instant now = clock.instant();
                LogEntry entry = new LogEntry(type, now.isBefore(lastEntryAt) ? lastEntryAt : now, fields);
                write(entry);
                return new Appended(entries.size() - 1L, entry);
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the transparency log in " + dir, e);
        }
    }

    /** An entry the log appended, and where. */
    public record Appended(long index, LogEntry entry) {
    }

    private void write(LogEntry entry) throws IOException {
        byte[] bytes = entry.bytes();
        int held = entries.size();
        Instant previous = lastEntryAt;
        try {
            ByteBuffer record = ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).flip();
            while (record.hasRemaining()) {
                channel.write(record, covered + record.position());
            }
            channel.force(false);
            tree.append(bytes);
            entries.add(bytes);
            lastEntryAt = entry.at();
            signHead();
            covered += record.limit();
        } catch (IOException | RuntimeException e) {
            forgetFrom(held);
            lastEntryAt = previous;
            try {
                channel.truncate(covered); // the record is not acknowledged: leave no trace of it
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /** Signs the head of the tree as it is, saves it durably, then serves it. */
    private void signHead() throws IOException {
        SignedTreeHead next = SignedTreeHead.sign(tree.size(), clock.instant(), tree.rootHash(tree.size()), signingKey);
        if (head != null && next.timestamp().isBefore(head.timestamp())) {
            // a clock that stepped back: heads are dated like entries, never before the last one
            next = SignedTreeHead.sign(tree.size(), head.timestamp(), tree.rootHash(tree.size()), signingKey);
        }
        DurableFile.replace(dir.resolve(HEAD), TreeHeadCodec.write(next));
        head = next;
    }

    /** The latest signed tree head, including what replicas sharing the directory appended. */
    @Override
    public synchronized SignedTreeHead head() {
        try {
            catchUp();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the transparency log in " + dir, e);
        }
        return head;
    }

    /** The number of entries in the latest head. */
    public long size() {
        return head().size();
    }

    /** The entry at {@code index}. */
    public synchronized LogEntry entry(long index) {
        requireHeld(index + 1);
        return LogEntry.parse(entries.get(Math.toIntExact(index)));
    }

    /**
     * The entries from {@code start} (inclusive) to {@code end} (exclusive), at most
     * {@link #MAX_ENTRIES_PER_READ}, as the canonical bytes the tree hashes.
     */
    @Override
    public synchronized List<byte[]> entries(long start, long end) {
        requireHeld(end);
        if (start < 0 || start > end || end - start > MAX_ENTRIES_PER_READ) {
            throw new IllegalArgumentException("entries are read from 0 to the log's size, at most "
                    + MAX_ENTRIES_PER_READ + " at once, not " + start + " to " + end);
        }
        return List.copyOf(entries.subList((int) start, (int) end)).stream().map(byte[]::clone).toList();
    }

    /** The index of the latest entry that {@code matches}, if any. */
    public synchronized java.util.OptionalLong findLast(java.util.function.Predicate<LogEntry> matches) {
        head();
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (matches.test(LogEntry.parse(entries.get(i)))) {
                return java.util.OptionalLong.of(i);
            }
        }
        return java.util.OptionalLong.empty();
    }

    /** The inclusion proof of entry {@code index} in the tree of {@code size}. */
    @Override
    public synchronized List<byte[]> inclusionProof(long index, long size) {
        requireHeld(size);
        return tree.inclusionProof(index, size);
    }

    /** The consistency proof from the tree of {@code first} entries to that of {@code second}. */
    @Override
    public synchronized List<byte[]> consistencyProof(long first, long second) {
        requireHeld(second);
        return tree.consistencyProof(first, second);
    }

    /** Takes in a replica's appends when asked about a size beyond what this log holds. */
    private void requireHeld(long size) {
        if (size > entries.size()) {
            head();
        }
        if (size > head.size()) {
            throw new IllegalArgumentException("the log holds " + head.size() + " entries, not " + size);
        }
    }

    @Override
    public synchronized void close() throws IOException {
        channel.close();
    }
}
