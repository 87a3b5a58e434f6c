package io.sealstream.worker.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * A model file read once: copied into a new owner-only directory while the bytes copied are
 * hashed. What loads the model reads the copy, so the digest is of the bytes that run even if the
 * source changes between reads (a host that serves one file to a hash and another to a loader).
 * Closing deletes the copy.
 */
final class MeasuredCopy implements AutoCloseable {
    private final Path dir;
    private final Path file;
    private final byte[] digest;

    private MeasuredCopy(Path dir, Path file, byte[] digest) {
        this.dir = dir;
        this.file = file;
        this.digest = digest;
    }

    /** Copies {@code source} into a private directory under {@code scratch}, hashing it with SHA-256. */
    static MeasuredCopy of(Path source, Path scratch) {
        Path dir;
        try {
            Files.createDirectories(scratch);
            dir = Files.createTempDirectory(scratch, "sealstream-model-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a private directory under " + scratch + " to copy chat model "
                    + source + " into; give a writable scratch directory with room for the model", e);
        }
        Path target = dir.resolve("model.gguf");
        try (InputStream in = Files.newInputStream(source);
             OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
            }
            return new MeasuredCopy(dir, target, sha.digest());
        } catch (IOException e) {
            deleteQuietly(target, dir);
            throw new UncheckedIOException("cannot read chat model " + source + " into " + dir + " ("
                    + e.getClass().getSimpleName() + "); check the path and that the scratch directory has room", e);
        } catch (NoSuchAlgorithmException e) {
            deleteQuietly(target, dir);
            throw new IllegalStateException(e);
        }
    }

    /** The copy, for the loader. */
    Path file() {
        return file;
    }

    /** SHA-256 of the bytes copied. */
    byte[] digest() {
        return digest.clone();
    }

    @Override
    public void close() {
        deleteQuietly(file, dir);
    }

    private static void deleteQuietly(Path file, Path dir) {
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a leftover copy of a model is untidy, not a secret: models are public, measured artefacts
        }
    }
}
