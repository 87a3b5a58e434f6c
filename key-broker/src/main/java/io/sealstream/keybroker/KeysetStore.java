package io.sealstream.keybroker;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import io.sealstream.envelope.TopicKeyset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Topic keysets at rest: one file per topic under {@code keysets/}, each sealed with Tink AEAD
 * under a key-encryption key. In the dev stack the KEK is a local key file ({@code kek.json},
 * owner-only); a production broker takes it from its TEE's sealing key or a KMS. Files are written
 * atomically, so a crash never leaves half a keyset.
 */
final class KeysetStore {
    private static final String KEK_FILE = "kek.json";
    private static final String KEYSET_DIR = "keysets";
    private static final String SUFFIX = ".sealed";

    private final Path dir;
    private final Aead kek;

    KeysetStore(Path dataDir) {
        try {
            Files.createDirectories(dataDir.resolve(KEYSET_DIR));
            this.dir = dataDir.resolve(KEYSET_DIR);
            this.kek = loadOrCreateKek(dataDir.resolve(KEK_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use key broker data directory " + dataDir
                    + "; check that it is writable", e);
        }
    }

    /** Every stored keyset, by topic. */
    Map<String, TopicKeyset> loadAll() {
        Map<String, TopicKeyset> out = new HashMap<>();
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(SUFFIX))::iterator) {
                TopicKeyset k = TopicKeyset.fromSealed(Files.readAllBytes(f), kek);
                out.put(k.topic(), k);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read sealed keysets in " + dir, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a sealed keyset in " + dir + " does not open with this broker's KEK: "
                    + "it was altered or sealed under another KEK", e);
        }
        return out;
    }

    void save(TopicKeyset keyset) {
        Path target = dir.resolve(fileName(keyset.topic()));
        Path tmp = dir.resolve(fileName(keyset.topic()) + ".tmp");
        try {
            Files.write(tmp, keyset.toSealed(kek));
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the sealed keyset of topic '" + keyset.topic() + "'", e);
        }
    }

    private static String fileName(String topic) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(topic.getBytes(StandardCharsets.UTF_8)) + SUFFIX;
    }

    private static Aead loadOrCreateKek(Path file) throws IOException {
        try {
            AeadConfig.register();
            KeysetHandle handle;
            if (Files.exists(file)) {
                handle = TinkJsonProtoKeysetFormat.parseKeyset(Files.readString(file), InsecureSecretKeyAccess.get());
            } else {
                handle = KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM);
                Files.writeString(file, TinkJsonProtoKeysetFormat.serializeKeyset(handle, InsecureSecretKeyAccess.get()));
                try {
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system; the directory's own permissions must protect it
                }
            }
            return handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the key-encryption key in " + file + " is unreadable", e);
        }
    }
}
