package io.sealstream.worker.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Model files copied out of their jar into a private directory (DJL and ONNX Runtime want paths),
 * and measured while copied. The digest is SHA-256 over, for each file in the given order: the
 * name's length (4 bytes), the name (UTF-8), the content's length (8 bytes), the content. This is
 * the model digest the worker attests to and the policy allows.
 */
final class ModelFiles implements AutoCloseable {
    private final Path dir;
    private final List<Path> files;
    private final byte[] digest;

    private ModelFiles(Path dir, List<Path> files, byte[] digest) {
        this.dir = dir;
        this.files = files;
        this.digest = digest;
    }

    static ModelFiles extract(ClassLoader loader, List<String> resources) {
        try {
            Path dir = Files.createTempDirectory("sealstream-model-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            List<Path> out = new java.util.ArrayList<>();
            for (String name : resources) {
                Path target = dir.resolve(name);
                try (InputStream in = loader.getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IllegalStateException("model resource '" + name + "' is not on the class path; "
                                + "add the dev.langchain4j embeddings jar that ships it");
                    }
                    long size = Files.copy(in, target);
                    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
                    sha.update(ByteBuffer.allocate(4).putInt(nameBytes.length).array());
                    sha.update(nameBytes);
                    sha.update(ByteBuffer.allocate(8).putLong(size).array());
                    // hash the content again from disk: what is measured is exactly what is loaded
                    try (InputStream written = Files.newInputStream(target)) {
                        byte[] buf = new byte[1 << 16];
                        for (int n; (n = written.read(buf)) > 0; ) {
                            sha.update(buf, 0, n);
                        }
                    }
                }
                out.add(target);
            }
            return new ModelFiles(dir, List.copyOf(out), sha.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the model files; check that java.io.tmpdir is writable", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Path file(int index) {
        return files.get(index);
    }

    byte[] digest() {
        return digest.clone();
    }

    @Override
    public void close() {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp copy of a public model is untidy, not a secret
        }
    }
}
