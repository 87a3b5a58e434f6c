package io.sealstream.transparency;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a client checks of the transparency log before it trusts anything the log holds: every head
 * it is shown verifies with the pinned log key and is consistent with the last head it saw (kept
 * on disk, so across restarts), so a log that forked or shrank is refused; an entry it relies on
 * is proven included in that head; and a policy entry is at least a minimum age, so a policy
 * change is visible in the log before any client acts on it.
 */
public final class LogMonitor {
    /** What the log answers (the key broker over HTTP; a log in a test). */
    public interface LogSource {
        SignedTreeHead head() throws IOException;

        List<byte[]> consistencyProof(long first, long second) throws IOException;

        List<byte[]> inclusionProof(long index, long size) throws IOException;

        /** Entries {@code start} to {@code end - 1}, each the canonical bytes its leaf hashes; at most 256 at once. */
        List<byte[]> entries(long start, long end) throws IOException;
    }

    /** Why the log was not trusted; {@link #code()} names it for messages and metrics. */
    public static final class LogVerificationException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String code;

        LogVerificationException(String code, String message) {
            super(code + ": " + message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** One lock per kept head inside this JVM: {@link FileLock} only excludes other processes. */
    private static final java.util.Map<Path, java.util.concurrent.locks.ReentrantLock> LOCAL_LOCKS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private final PublicKey logKey;
    private final Path headFile;
    private final Duration minimumPolicyAge;
    private final Clock clock;

    /**
     * @param logKey the log's public key, pinned like the broker's measurement
     * @param headFile where the last head seen is kept (in the client's connection directory)
     * @param minimumPolicyAge how long a policy must have been in the log before it is accepted
     */
    public LogMonitor(PublicKey logKey, Path headFile, Duration minimumPolicyAge, Clock clock) {
        this.logKey = logKey;
        this.headFile = headFile;
        this.minimumPolicyAge = minimumPolicyAge;
        this.clock = clock;
    }

    /**
     * The last head this client accepted, if any, verified again with the pinned key: the file is
     * the client's, but a head that does not verify is never relied on.
     *
     * @throws LogVerificationException {@code log_head_unreadable} for a damaged or unsigned file
     */
    public Optional<SignedTreeHead> lastHead() throws LogVerificationException {
        if (!Files.exists(headFile)) {
            return Optional.empty();
        }
        SignedTreeHead saved;
        try {
            saved = TreeHeadCodec.read(Files.readAllBytes(headFile));
        } catch (IOException | RuntimeException e) {
            throw new LogVerificationException("log_head_unreadable", "the last tree head this client kept (" + headFile
                    + ") cannot be read; with it gone this client cannot tell a forked log from an honest one, so check "
                    + "the log's head with another client before removing the file");
        }
        if (!saved.verify(logKey)) {
            throw new LogVerificationException("log_head_unreadable", "the last tree head this client kept (" + headFile
                    + ") is not signed by the pinned log key: it was replaced");
        }
        return Optional.of(saved);
    }

    /**
     * Takes the log's current head: verifies its signature and its consistency with the last head
     * seen, then keeps it as the last head. Calls are serialised in this process and, through a
     * lock file, across processes sharing the connection directory, so the kept head only grows.
     *
     * @throws LogVerificationException {@code log_signature}, {@code log_future} (dated after this
     *     client's clock), {@code log_truncated} (smaller than a head already seen, which the log
     *     cannot prove it still extends), {@code log_forked} (not an extension of it),
     *     {@code log_stale} (signed before it)
     * @throws IOException when the log cannot be read
     */
    public synchronized SignedTreeHead update(LogSource source) throws LogVerificationException, IOException {
        SignedTreeHead head = source.head();
        if (head == null || !head.verify(logKey)) {
            throw new LogVerificationException("log_signature", "the log's tree head is not signed by the pinned log key; "
                    + "do not trust this key broker");
        }
        if (head.timestamp().isAfter(clock.instant().plus(MAX_CLOCK_SKEW))) {
            // kept, a head from the future would date every later policy as too new, for good
            throw new LogVerificationException("log_future", "the log's head is dated " + head.timestamp() + ", after "
                    + "this client's clock (" + clock.instant() + ") by more than " + MAX_CLOCK_SKEW.toMinutes()
                    + " min: the key broker's clock is wrong; ask the operator to fix it");
        }
        Path dir = headFile.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        java.util.concurrent.locks.ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(
                dir.toRealPath().resolve(headFile.getFileName()), f -> new java.util.concurrent.locks.ReentrantLock());
        local.lock();
        try (FileChannel lockFile = FileChannel.open(headFile.resolveSibling(headFile.getFileName() + ".lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock ignored = lockFile.lock()) {
            Optional<SignedTreeHead> last = lastHead();
            if (last.isPresent() && head.size() < last.get().size() && olderHeadOf(last.get(), head, source)) {
                return last.get(); // fetched before another process kept a later one: not a shrunk log
            }
            if (last.isPresent()) {
                checkExtends(last.get(), head, source);
            }
            save(head);
        } finally {
            local.unlock();
        }
        return head;
    }

    /** How far a head's time may run ahead of this client's clock. */
    static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    /** Whether {@code older} is an earlier head of the log that signed {@code kept}, as the log proves now. */
    private static boolean olderHeadOf(SignedTreeHead kept, SignedTreeHead older, LogSource source) {
        try {
            return MerkleProofs.consistency(older.size(), older.rootHash(), kept.size(), kept.rootHash(),
                    source.consistencyProof(older.size(), kept.size()));
        } catch (IOException | RuntimeException e) {
            return false; // a log that cannot prove the later head it signed has shrunk
        }
    }

    private static void checkExtends(SignedTreeHead seen, SignedTreeHead head, LogSource source)
            throws LogVerificationException, IOException {
        if (head.size() < seen.size()) {
            throw new LogVerificationException("log_truncated", "the log now holds " + head.size() + " entries, fewer "
                    + "than the " + seen.size() + " this client saw: entries were removed; do not trust this key broker");
        }
        if (!MerkleProofs.consistency(seen.size(), seen.rootHash(), head.size(), head.rootHash(),
                source.consistencyProof(seen.size(), head.size()))) {
            throw new LogVerificationException("log_forked", "the log of " + head.size() + " entries is not an extension "
                    + "of the one of " + seen.size() + " this client saw: its history was rewritten or others are shown "
                    + "another log; do not trust this key broker");
        }
        if (head.timestamp().isBefore(seen.timestamp())) {
            throw new LogVerificationException("log_stale", "the log's head was signed at " + head.timestamp()
                    + ", before the head this client saw (" + seen.timestamp() + "): an old head is being replayed");
        }
    }

    /**
     * Requires {@code entry} to be entry {@code index} of the head this client last accepted (take
     * the log's head with {@link #update} first).
     *
     * @throws LogVerificationException {@code not_in_log}
     */
    public void requireIncluded(LogEntry entry, long index, LogSource source) throws LogVerificationException, IOException {
        SignedTreeHead head = lastHead().orElseThrow(() -> new LogVerificationException("not_in_log", "this client "
                + "has accepted no head of the log yet; take one first"));
        if (index < 0 || index >= head.size() || !MerkleProofs.inclusion(MerkleTree.leafHash(entry.bytes()), index,
                head.size(), source.inclusionProof(index, head.size()), head.rootHash())) {
            throw new LogVerificationException("not_in_log", "the " + entry.type().id() + " entry is not entry " + index
                    + " of the log of " + head.size() + " this client accepted; do not trust what it says");
        }
    }

    /**
     * Requires a policy entry to have been in the log for at least the minimum age, judged by its
     * time, which may not be later than the head this client accepted.
     *
     * @throws LogVerificationException {@code policy_too_new}
     */
    public void requirePolicyAged(LogEntry policy) throws LogVerificationException {
        if (policy.type() != LogEntry.Type.POLICY) {
            throw new IllegalArgumentException("not a policy entry: " + policy.type().id());
        }
        Optional<SignedTreeHead> head = lastHead();
        if (head.isPresent() && policy.at().isAfter(head.get().timestamp())) {
            throw new LogVerificationException("policy_too_new", "policy " + policy.fields().get("policy_id") + " claims a "
                    + "time after the log's head; it is not in the log yet");
        }
        Duration age = Duration.between(policy.at(), clock.instant());
        if (age.compareTo(minimumPolicyAge) < 0) {
            throw new LogVerificationException("policy_too_new", "policy " + policy.fields().get("policy_id") + " entered the "
                    + "log " + Math.max(0, age.toSeconds()) + " s ago; this client accepts policies after "
                    + minimumPolicyAge.toSeconds() + " s in the log. Inspect it meanwhile");
        }
    }

    /**
     * What an auditor does: takes the log's head as {@link #update} does, then reads every entry
     * and requires them, rebuilt into a tree, to hash to that head's root. Returns the entries.
     *
     * @throws LogVerificationException as {@link #update}, or {@code log_root_mismatch} when the
     *     entries served are not those the head commits to
     * @throws IOException when the log cannot be read
     */
    public List<LogEntry> audit(LogSource source) throws LogVerificationException, IOException {
        SignedTreeHead head = update(source);
        MerkleTree tree = new MerkleTree();
        List<LogEntry> out = new java.util.ArrayList<>();
        int page = TransparencyLog.MAX_ENTRIES_PER_READ;
        for (long start = 0; start < head.size(); start += page) {
            long end = Math.min(head.size(), start + page);
            List<byte[]> served = source.entries(start, end);
            if (served.size() != end - start) {
                throw new LogVerificationException("log_root_mismatch", "the log served " + served.size()
                        + " entries from " + start + ", not " + (end - start) + "; do not trust this key broker");
            }
            for (byte[] bytes : served) {
                try {
                    out.add(LogEntry.parse(bytes));
                } catch (IllegalArgumentException e) {
                    throw new LogVerificationException("log_root_mismatch", "log entry " + out.size()
                            + " is not in canonical form; do not trust this key broker");
                }
                tree.append(bytes);
            }
        }
        if (!java.security.MessageDigest.isEqual(tree.rootHash(head.size()), head.rootHash())) {
            throw new LogVerificationException("log_root_mismatch", "the " + head.size() + " entries the log served do "
                    + "not hash to the root of its signed head: it shows its entries differently than it signs them; do "
                    + "not trust this key broker");
        }
        return out;
    }

    private void save(SignedTreeHead head) throws IOException {
        DurableFile.replace(headFile, TreeHeadCodec.write(head));
    }
}
