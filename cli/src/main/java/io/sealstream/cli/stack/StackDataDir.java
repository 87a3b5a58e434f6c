package io.sealstream.cli.stack;

import io.sealstream.service.ServiceLogging;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The data directory of an embedded stack that {@code demo} or {@code up} starts, with the
 * process's log in it ({@link #LOG_FILE}) instead of on the console, unless asked to be verbose.
 * Closing removes the stack's data (Kafka's segments, the key broker's development root, the
 * workers' state) and keeps the log, so it can be read after the stack stopped.
 */
public final class StackDataDir implements AutoCloseable {
    public static final String LOG_FILE = "sealstream.log";

    private final Path dir;
    private final Path log;
    private final boolean logOnConsole;

    private StackDataDir(Path dir, boolean logOnConsole) {
        this.dir = dir;
        this.log = dir.resolve(LOG_FILE);
        this.logOnConsole = logOnConsole;
    }

    /** A fresh data directory; the log goes to its {@link #LOG_FILE} unless {@code verbose}. */
    public static StackDataDir create(boolean verbose) throws IOException {
        StackDataDir d = new StackDataDir(Files.createTempDirectory("sealstream-stack-"), verbose);
        if (!verbose) {
            ServiceLogging.toFile(d.log);
        }
        return d;
    }

    public Path dir() {
        return dir;
    }

    /** Where the log goes, for the console to say: the file, or the console itself. */
    public String logDescription() {
        return logOnConsole ? "on the console (--verbose)" : log.toString();
    }

    /** Removes everything but the log file (the directory too when the log is on the console). */
    @Override
    public void close() {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder())
                    .filter(p -> logOnConsole || !(p.equals(log) || p.equals(dir)))
                    .forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up " + dir, e);
        }
    }
}
