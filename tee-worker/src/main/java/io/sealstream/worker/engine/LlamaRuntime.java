package io.sealstream.worker.engine;

import de.kherud.llama.LlamaModel;
import de.kherud.llama.LogLevel;
import de.kherud.llama.args.LogFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts llama.cpp's native library once per JVM, quietly: the library is copied from its jar into
 * a private directory (owner-only) instead of the binding's shared temp path, and llama.cpp's log
 * callback drops every message, because llama.cpp may log prompt or output text. Only counts of
 * warnings and errors are kept ({@link #warnings()}); the engine also starts each model with
 * llama.cpp's own logging disabled.
 */
final class LlamaRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(LlamaRuntime.class);
    private static final AtomicLong WARNINGS = new AtomicLong();
    private static boolean started;

    private LlamaRuntime() {
    }

    static synchronized void start() {
        if (started) {
            return;
        }
        if (System.getProperty("de.kherud.llama.lib.path") == null) {
            privateCopyOfNativeLibrary();
        }
        LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {
            if (level == LogLevel.WARN || level == LogLevel.ERROR) {
                WARNINGS.incrementAndGet(); // the message itself may quote a prompt: dropped
            }
        });
        started = true;
    }

    /** llama.cpp warnings and errors seen so far (their text is never kept). */
    static long warnings() {
        return WARNINGS.get();
    }

    private static void privateCopyOfNativeLibrary() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osDir = os.contains("linux") ? "Linux" : os.contains("mac") ? "Mac" : os.contains("windows") ? "Windows" : null;
        String archDir = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "aarch64" : null;
        if (osDir == null || archDir == null || osDir.equals("Mac")) {
            return; // the binding's own loader handles these (and Metal's shader file on macOS)
        }
        String name = System.mapLibraryName("jllama");
        String resource = "de/kherud/llama/" + osDir + "/" + archDir + "/" + name;
        try (InputStream in = LlamaModel.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return;
            }
            Path dir = Files.createTempDirectory("sealstream-llama-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path lib = dir.resolve(name);
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            lib.toFile().deleteOnExit();
            dir.toFile().deleteOnExit();
            System.setProperty("de.kherud.llama.lib.path", dir.toString());
            LOG.debug("llama.native dir={}", dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy llama.cpp's native library out of its jar; check that "
                    + "java.io.tmpdir is writable", e);
        }
    }
}
