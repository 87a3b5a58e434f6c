package io.sealstream.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files of the Batch API ({@code /v1/files}): batch inputs uploaded by the application, and
 * the output and error files of batches. They hold plaintext prompts and answers, so they live on
 * the user's machine only, in a directory only its owner may read, and {@code DELETE} removes them.
 * A file is its content ({@code <id>}) and its description ({@code <id>.json}); ids are checked
 * against their pattern before any path is made from them, and the uploaded file name is only a
 * label.
 */
final class ProxyFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("file-[0-9a-f]{24}");

    private final Path dir;

    ProxyFiles(Path dir) {
        this.dir = dir;
        ownerOnlyDirectory(dir);
    }

    /** A file's description, as OpenAI's file object. */
    record StoredFile(String id, String filename, String purpose, long createdAt) {
        ObjectNode json(long bytes) {
            return JSON.createObjectNode().put("id", id).put("object", "file").put("bytes", bytes)
                    .put("created_at", createdAt).put("filename", filename).put("purpose", purpose)
                    .put("status", "processed");
        }
    }

    /** Whether {@code id} has the shape of a file id (nothing else is ever turned into a path). */
    static boolean isId(String id) {
        return id != null && ID.matcher(id).matches();
    }

    /** Moves {@code upload} in as a new file; the name is kept only as a printable label. */
    StoredFile add(Path upload, String filename, String purpose) throws IOException {
        StoredFile f = new StoredFile(newId(), label(filename), purpose, Instant.now().getEpochSecond());
        Path target = content(f.id());
        try {
            Files.move(upload, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.copy(upload, target);
        }
        ownerOnly(target);
        describe(f);
        return f;
    }

    /** A new, empty file for a batch to write, described at once so it can be listed as it grows. */
    StoredFile create(String filename, String purpose) throws IOException {
        StoredFile f = new StoredFile(newId(), filename, purpose, Instant.now().getEpochSecond());
        ownerOnly(Files.createFile(content(f.id())));
        describe(f);
        return f;
    }

    Optional<StoredFile> get(String id) {
        if (!isId(id) || !Files.isRegularFile(description(id))) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(description(id).toFile(), StoredFile.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the description of " + id, e);
        }
    }

    /** Every file, newest first. */
    List<StoredFile> list() {
        List<StoredFile> all = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - 5)).forEach(id -> get(id).ifPresent(all::add));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        all.sort((a, b) -> Long.compare(b.createdAt(), a.createdAt()));
        return all;
    }

    long size(String id) {
        try {
            return Files.size(content(id));
        } catch (IOException e) {
            return 0;
        }
    }

    /** Where the content of {@code id} lies; {@code id} must be a file id. */
    Path content(String id) {
        if (!isId(id)) {
            throw new IllegalArgumentException("not a file id");
        }
        return dir.resolve(id);
    }

    /** Removes the file's content and description; false when there was none. */
    boolean delete(String id) throws IOException {
        if (!isId(id)) {
            return false;
        }
        boolean had = Files.deleteIfExists(description(id));
        Files.deleteIfExists(content(id));
        return had;
    }

    private Path description(String id) {
        return dir.resolve(id + ".json");
    }

    private void describe(StoredFile f) {
        Path tmp = dir.resolve(f.id() + ".json.tmp");
        try {
            Files.write(tmp, JSON.writeValueAsBytes(f));
            ownerOnly(tmp);
            Files.move(tmp, description(f.id()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot describe " + f.id(), e);
        }
    }

    private static String newId() {
        return randomId("file-");
    }

    /** {@code prefix} and 24 random hex digits: the ids of files and batches. */
    static String randomId(String prefix) {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return prefix + HexFormat.of().formatHex(b);
    }

    /** A printable label of at most 128 characters; never a path. */
    static String label(String filename) {
        if (filename == null || filename.isBlank()) {
            return "upload.jsonl";
        }
        String base = filename.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        base = base.replaceAll("[^A-Za-z0-9._ -]", "_");
        return base.isEmpty() ? "upload.jsonl" : base.length() > 128 ? base.substring(0, 128) : base;
    }

    static void ownerOnlyDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the directory's default permissions apply
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private static void ownerOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
    }
}
