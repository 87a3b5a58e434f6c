package io.sealstream.keybroker.custody;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.crypto.tink.Aead;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.keybroker.api.KeyBrokerJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Optional;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Topic keysets at rest, sealed under a key derived from the {@link RootSecret}: one file per
 * topic under {@code keysets/<epoch>/} (the epoch of the root's ratchet), and a sealed manifest with a state counter and each topic's
 * keyset version. Every file starts with the id of the root that sealed it. Loading refuses, with
 * the file named and what to do: a file of another root (planted or copied), an altered file, a
 * keyset older than the manifest records (rolled back), a keyset the manifest lists but that is
 * gone, keysets without a manifest, and a legacy {@code kek.json} (this broker never reads a key
 * from disk). Replicas that share the directory serialise writes with a lock and see each other's
 * changes through the counter.
 */
public final class SealedKeysetStore {
    static final String KEYSET_DIR = "keysets";
    private static final String SUFFIX = ".sealed";
    private static final String MANIFEST = "manifest.sealed";
    private static final String LEGACY_KEK = "kek.json";
    /** Not a keyset file: '.' is outside the base64url alphabet of keyset file names. */
    private static final String LOG_KEY = "transparency-log.key";
    private static final byte[] LOG_KEY_AAD = "sealstream/v1/log-key".getBytes(StandardCharsets.UTF_8);
    private static final byte[] KEYSET_AAD = "sealstream/v1/keyset-file".getBytes(StandardCharsets.UTF_8);
    private static final byte[] MANIFEST_AAD = "sealstream/v1/keyset-manifest".getBytes(StandardCharsets.UTF_8);
    private static final ObjectMapper JSON = KeyBrokerJson.mapper();
    /** One lock per directory inside this JVM; {@link FileLock} covers other processes. */
    private static final Map<Path, ReentrantLock> LOCAL_LOCKS = new ConcurrentHashMap<>();
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final Path keysetsRoot;
    private final Path dir;
    private final long epoch;
    private final byte[] rootId;
    private final Aead keysetKey;
    private final Aead manifestKey;
    private final Aead logKeyKey;
    private volatile Manifest manifest;

    /**
     * What the manifest holds: a counter that every write raises, each topic's keyset version, the
     * policy id the state was written under, the SHA-256 (hex) of the transparency log's public
     * key once one exists (so a removed or swapped log key is refused, never silently replaced),
     * and how many entries the log held at the last write (so the log alone cannot be rolled back
     * behind the state: only with it).
     */
    record Manifest(long stateVersion, Map<String, Long> versions, String policyId, String logKey, long logSize) {
        static final Manifest EMPTY = new Manifest(0, Map.of(), null, null, 0);

        Manifest next(Map<String, Long> nextVersions, String nextPolicyId, long nextLogSize) {
            return new Manifest(stateVersion + 1, nextVersions, nextPolicyId, logKey, Math.max(logSize, nextLogSize));
        }
    }

    /** The transparency log's size now, recorded at every manifest write (0 until the log opens). */
    private volatile java.util.function.LongSupplier logSize = () -> 0;

    /** Where the manifest takes the transparency log's size from at each write. */
    public void recordLogSizeFrom(java.util.function.LongSupplier size) {
        this.logSize = size;
    }

    /** How many entries the transparency log held at the last write of the state on disk. */
    public long logSizeOnDisk() {
        return readManifest().logSize();
    }

    /** Thrown when the sealed state on disk is not what this root left there. */
    public static final class RefusedStateException extends IllegalStateException {
        private final String code;

        public RefusedStateException(String code, String message) {
            super(code + ": " + message);
            this.code = code;
        }

        /** {@code foreign_root}, {@code altered}, {@code rolled_back}, {@code missing}, {@code legacy_kek}. */
        public String code() {
            return code;
        }
    }

    public SealedKeysetStore(Path dataDir, RootSecret root, long epoch) {
        this(dataDir, root, epoch, Manifest.EMPTY);
    }

    private SealedKeysetStore(Path dataDir, RootSecret root, long epoch, Manifest held) {
        this.keysetsRoot = dataDir.resolve(KEYSET_DIR);
        this.dir = keysetsRoot.resolve(Long.toString(epoch));
        this.epoch = epoch;
        this.manifest = held;
        this.rootId = root.id();
        this.keysetKey = root.aead("keysets");
        this.manifestKey = root.aead("keyset-manifest");
        this.logKeyKey = root.aead("transparency-log-key");
        if (Files.exists(dataDir.resolve(LEGACY_KEK))) {
            throw new RefusedStateException("legacy_kek", dataDir.resolve(LEGACY_KEK) + " exists, but this key broker "
                    + "never reads a key-encryption key from disk: it was planted by the host or left by a version "
                    + "before custody modes. Move it and the keysets/ directory away and start a fresh deployment");
        }
        try {
            Files.createDirectories(keysetsRoot); // an epoch's directory is made only by the write that fills it
            try (var loose = Files.list(keysetsRoot)) {
                if (loose.anyMatch(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(SUFFIX))) {
                    throw new RefusedStateException("foreign_root", keysetsRoot + " holds sealed files outside an "
                            + "epoch directory: planted, or left by an earlier layout. Move them away");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use key broker data directory " + dataDir
                    + "; check that it is writable", e);
        }
    }

    /**
     * Every stored keyset, by topic, after checking the whole directory.
     *
     * @throws RefusedStateException if anything there is not what this root left
     */
    public Map<String, TopicKeyset> loadAll() {
        return locked(() -> {
            Manifest m = readManifest();
            Manifest held = manifest;
            if (m.stateVersion() < held.stateVersion()) {
                throw new RefusedStateException("rolled_back", dir.resolve(MANIFEST) + " holds state " + m.stateVersion()
                        + ", older than the state " + held.stateVersion() + " this replica already serves: the directory "
                        + "was rolled back. Restore the current state; never serve an older one");
            }
            Map<String, TopicKeyset> out = new HashMap<>();
            if (!Files.isDirectory(dir)) {
                if (m.stateVersion() > 0 || held.stateVersion() > 0 || epoch > 0) {
                    throw new RefusedStateException("missing", dir + " is gone, but the custody record names its epoch: "
                            + "restore it from a replica's volume");
                }
                manifest = m;
                return new HashMap<>(); // a new deployment: nothing written yet
            }
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files.filter(this::isKeysetFile).sorted()::iterator) {
                    TopicKeyset k = open(f);
                    long recorded = Math.max(m.versions().getOrDefault(k.topic(), -1L),
                            held.versions().getOrDefault(k.topic(), -1L));
                    if (k.version() < recorded) {
                        throw new RefusedStateException("rolled_back", f + " holds version " + k.version()
                                + " of the keyset of topic '" + k.topic() + "', but this broker recorded version "
                                + recorded + ": an older copy was put back. Restore the current file from a replica's "
                                + "volume; never serve an older keyset");
                    }
                    out.put(k.topic(), k);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read sealed keysets in " + dir, e);
            }
            for (String topic : m.versions().keySet()) {
                if (!out.containsKey(topic)) {
                    throw new RefusedStateException("missing", "the manifest records a keyset for topic '" + topic
                            + "' but " + dir.resolve(fileName(topic)) + " is gone; restore it from a replica's volume");
                }
            }
            manifest = m;
            return out;
        });
    }

    /** The state counter on disk now; another replica's write raises it. */
    public long stateVersionOnDisk() {
        return readManifest().stateVersion();
    }

    /**
     * The policy id under which the state on disk was last written (null before the first write):
     * a replica whose own policy differs has been left behind by an owner's change on another one.
     */
    public String policyIdOnDisk() {
        return readManifest().policyId();
    }

    /** The state counter this store last loaded or wrote. */
    public long stateVersion() {
        return manifest.stateVersion();
    }

    /**
     * Writes {@code keyset} and raises the state counter; the keyset file first, so a crash between
     * the two leaves a keyset newer than the manifest, which loads.
     *
     * @throws RefusedStateException if another replica wrote since this one loaded (reload first)
     */
    public void save(TopicKeyset keyset, String policyId) {
        locked(() -> {
            Manifest onDisk = readManifest();
            if (onDisk.stateVersion() != manifest.stateVersion()) {
                throw new RefusedStateException("stale", "another replica changed the keysets (state "
                        + onDisk.stateVersion() + ", this one holds " + manifest.stateVersion() + "); reload first");
            }
            Path target = dir.resolve(fileName(keyset.topic()));
            createDirectory(dir);
            writeAtomically(target, frame(keyset.toSealed(keysetKey)));
            Map<String, Long> versions = new TreeMap<>(manifest.versions());
            versions.put(keyset.topic(), keyset.version());
            writeManifest(manifest.next(versions, policyId, logSize.getAsLong()));
            return null;
        });
    }

    /**
     * The whole state sealed again under {@code next}, the root of epoch {@code nextEpoch}, with the
     * state counter raised: the store of that epoch. The caller then records the next root and
     * removes this epoch's directory ({@link #removeOtherEpochs()}).
     */
    public SealedKeysetStore reseal(Map<String, TopicKeyset> keysets, RootSecret next, long nextEpoch, String policyId) {
        return locked(() -> {
            SealedKeysetStore resealed = new SealedKeysetStore(keysetsRoot.getParent(), next, nextEpoch, manifest);
            deleteTree(resealed.dir); // a ratchet interrupted before its record was written
            createDirectory(resealed.dir);
            Map<String, Long> versions = new TreeMap<>();
            for (TopicKeyset k : keysets.values()) {
                writeAtomically(resealed.dir.resolve(fileName(k.topic())), resealed.frame(k.toSealed(resealed.keysetKey)));
                versions.put(k.topic(), k.version());
            }
            if (manifest.logKey() != null) {
                resealed.writeLogKey(logKey().orElseThrow());
            }
            resealed.logSize = logSize;
            resealed.writeManifest(manifest.next(versions, policyId, logSize.getAsLong()));
            return resealed;
        });
    }

    /**
     * The transparency log's signing key, sealed beside the keysets and resealed with them at every
     * ratchet, so it stays the same key (clients pin it) while the roots that sealed earlier copies
     * are destroyed. Empty before {@link #createLogKey()}.
     *
     * @throws RefusedStateException if the manifest names a log key and its file is gone, altered,
     *     or holds another key
     */
    public Optional<KeyPair> logKey() {
        Manifest m = manifest.logKey() != null ? manifest : readManifest();
        if (m.logKey() == null) {
            return Optional.empty();
        }
        Path f = dir.resolve(LOG_KEY);
        if (!Files.exists(f)) {
            throw new RefusedStateException("missing", "the manifest records a transparency log key but " + f
                    + " is gone; restore it from a replica's volume (a new key would orphan every client's pin)");
        }
        KeyPair pair;
        try {
            LogKeyFile file = JSON.readValue(logKeyKey.decrypt(unframe(f), LOG_KEY_AAD), LogKeyFile.class);
            KeyFactory ec = KeyFactory.getInstance("EC");
            pair = new KeyPair(ec.generatePublic(new X509EncodedKeySpec(file.publicKey())),
                    ec.generatePrivate(new PKCS8EncodedKeySpec(file.privateKey())));
        } catch (GeneralSecurityException | IOException e) {
            throw new RefusedStateException("altered", f + " does not open under this broker's root although it names "
                    + "it: the file was altered. Restore it from a replica's volume");
        }
        if (!HexFormat.of().formatHex(ReportDataBinding.sha256(pair.getPublic().getEncoded())).equals(m.logKey())) {
            throw new RefusedStateException("altered", f + " holds another transparency log key than the manifest "
                    + "records; restore the file from a replica's volume");
        }
        return Optional.of(pair);
    }

    /**
     * Generates the transparency log's signing key (ECDSA P-256), seals it and records it in the
     * manifest; once only per deployment.
     *
     * @throws RefusedStateException if a log key exists or another replica wrote since this one loaded
     */
    public KeyPair createLogKey() {
        return locked(() -> {
            Manifest onDisk = readManifest();
            if (onDisk.stateVersion() != manifest.stateVersion()) {
                throw new RefusedStateException("stale", "another replica changed the state (state "
                        + onDisk.stateVersion() + ", this one holds " + manifest.stateVersion() + "); reload first");
            }
            if (onDisk.logKey() != null) {
                throw new RefusedStateException("stale", "a transparency log key exists already; load it");
            }
            KeyPair pair;
            try {
                KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
                ec.initialize(new ECGenParameterSpec("secp256r1"));
                pair = ec.generateKeyPair();
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JVM cannot generate P-256 keys", e);
            }
            createDirectory(dir);
            writeLogKey(pair);
            Manifest m = manifest;
            writeManifest(new Manifest(m.stateVersion() + 1, m.versions(), m.policyId(),
                    HexFormat.of().formatHex(ReportDataBinding.sha256(pair.getPublic().getEncoded())), m.logSize()));
            return pair;
        });
    }

    /** The sealed form of the log key: both halves, so nothing has to be derived from the private key. */
    record LogKeyFile(byte[] privateKey, byte[] publicKey) {
    }

    private void writeLogKey(KeyPair pair) {
        try {
            byte[] plain = JSON.writeValueAsBytes(new LogKeyFile(pair.getPrivate().getEncoded(), pair.getPublic().getEncoded()));
            try {
                writeAtomically(dir.resolve(LOG_KEY), frame(logKeyKey.encrypt(plain, LOG_KEY_AAD)));
            } finally {
                Arrays.fill(plain, (byte) 0);
            }
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("sealing the transparency log key failed", e);
        }
    }

    /** The store of a later epoch another replica moved to, keeping what this one served for the rollback checks. */
    public SealedKeysetStore followedTo(RootSecret root, long laterEpoch) {
        SealedKeysetStore followed = new SealedKeysetStore(keysetsRoot.getParent(), root, laterEpoch, manifest);
        followed.logSize = logSize;
        return followed;
    }

    /**
     * Deletes the directories of earlier epochs (what the previous roots sealed is gone from disk
     * too) and of later ones (a ratchet interrupted before its record was written). The caller
     * holds the lock and has just read that the custody record names this store's epoch.
     */
    public void removeOtherEpochs() {
        locked(() -> {
            try (var entries = Files.list(keysetsRoot)) {
                for (Path p : (Iterable<Path>) entries::iterator) {
                    if (Files.isDirectory(p) && !p.equals(dir) && p.getFileName().toString().matches("\\d{1,18}")) {
                        deleteTree(p);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + keysetsRoot, e);
            }
            return null;
        });
    }

    public long epoch() {
        return epoch;
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path f : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + "; check permissions", e);
        }
    }

    private void writeManifest(Manifest next) {
        try {
            writeAtomically(dir.resolve(MANIFEST), frame(manifestKey.encrypt(JSON.writeValueAsBytes(next), MANIFEST_AAD)));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("sealing the keyset manifest failed", e);
        }
        manifest = next;
    }

    /** Runs {@code work} holding this directory's lock, across replicas in this JVM and other processes. */
    public <T> T locked(Supplier<T> work) {
        return locked(keysetsRoot.getParent(), work);
    }

    /**
     * Runs {@code work} holding the lock of the data directory {@code dataDir}: keyset writes, the
     * ratchet and custody record rewrites all take it.
     */
    public static <T> T locked(Path dataDir, Supplier<T> work) {
        Path keysetsRoot = dataDir.resolve(KEYSET_DIR);
        try {
            Files.createDirectories(keysetsRoot);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + keysetsRoot + "; check that it is writable", e);
        }
        ReentrantLock local = LOCAL_LOCKS.computeIfAbsent(keysetsRoot.toAbsolutePath().normalize(), d -> new ReentrantLock());
        if (local.isHeldByCurrentThread()) {
            return work.get();
        }
        local.lock();
        try (FileChannel ch = FileChannel.open(keysetsRoot.resolve(".lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
             FileLock ignored = ch.lock()) {
            return work.get();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + keysetsRoot + "; check that it is writable", e);
        } finally {
            local.unlock();
        }
    }

    private boolean isKeysetFile(Path p) {
        String name = p.getFileName().toString();
        return name.endsWith(SUFFIX) && !name.equals(MANIFEST);
    }

    private Manifest readManifest() {
        Path f = dir.resolve(MANIFEST);
        if (!Files.isDirectory(dir)) {
            return Manifest.EMPTY;
        }
        if (!Files.exists(f)) {
            try (var files = Files.list(dir)) {
                if (files.anyMatch(this::isKeysetFile)) {
                    throw new RefusedStateException("missing", f + " is gone but keysets remain beside it: without it "
                            + "a rolled-back keyset cannot be told from a current one. Restore it from a replica's volume");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir, e);
            }
            return Manifest.EMPTY;
        }
        byte[] body = unframe(f);
        try {
            return JSON.readValue(manifestKey.decrypt(body, MANIFEST_AAD), Manifest.class);
        } catch (GeneralSecurityException | IOException e) {
            throw new RefusedStateException("altered", f + " does not open under this broker's root although it "
                    + "names it: the file was altered. Restore it from a replica's volume");
        }
    }

    private TopicKeyset open(Path f) {
        byte[] sealed = unframe(f);
        TopicKeyset k;
        try {
            k = TopicKeyset.fromSealed(sealed, keysetKey);
        } catch (GeneralSecurityException e) {
            throw new RefusedStateException("altered", f + " does not open under this broker's root although it names "
                    + "it: the file was altered. Restore it from a replica's volume");
        }
        if (!f.getFileName().toString().equals(fileName(k.topic()))) {
            throw new RefusedStateException("altered", f + " holds the keyset of topic '" + k.topic()
                    + "' under another topic's file name: it was renamed. Restore the original");
        }
        return k;
    }

    /** The file's body after checking that this root sealed it. */
    private byte[] unframe(Path f) {
        byte[] all;
        try {
            all = Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f, e);
        }
        if (all.length < rootId.length + 1 || !MessageDigest.isEqual(Arrays.copyOf(all, rootId.length), rootId)) {
            String found = all.length < rootId.length ? "(none)"
                    : HexFormat.of().formatHex(Arrays.copyOf(all, rootId.length)).substring(0, 16) + "…";
            throw new RefusedStateException("foreign_root", f + " was sealed under root " + found + ", not this broker's "
                    + HexFormat.of().formatHex(rootId).substring(0, 16) + "…: it was planted by the host or copied "
                    + "from another deployment. Remove it; a broker serves only keysets it sealed itself");
        }
        return Arrays.copyOfRange(all, rootId.length, all.length);
    }

    private byte[] frame(byte[] body) {
        byte[] out = Arrays.copyOf(rootId, rootId.length + body.length);
        System.arraycopy(body, 0, out, rootId.length, body.length);
        return out;
    }

    /** Writes {@code content} to a temporary file, forces it to disk, renames it over {@code target}, forces the directory. */
    static void writeAtomically(Path target, byte[] content) {
        Path tmp = target.resolveSibling(target.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(content));
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            forceDirectory(target.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + "; check free space and permissions", e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // a leftover temporary file holds only sealed bytes
            }
        }
    }

    /** Makes a rename in {@code dir} durable; a file system that cannot sync directories is left as it is. */
    static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not every platform can open a directory; the rename itself is atomic
        }
    }

    private static void createDirectory(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                forceDirectory(dir.getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + "; check free space and permissions", e);
        }
    }

    private static String fileName(String topic) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(topic.getBytes(StandardCharsets.UTF_8)) + SUFFIX;
    }
}
