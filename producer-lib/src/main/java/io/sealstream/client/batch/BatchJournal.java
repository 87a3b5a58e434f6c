package io.sealstream.client.batch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;

/**
 * The local record of a batch job: {@code <root>/<job id>/job.json} with the job's id, its files,
 * the input's SHA-256, its lifecycle status and counts, and the id of the process running it.
 * It holds ids, paths, states and counts only, never a prompt or a result. Written whole and
 * atomically (temp file, then rename), so a killed process leaves the last good state.
 */
public final class BatchJournal {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private final Path file;

    /**
     * What the journal says about a job.
     *
     * @param id the job id
     * @param input the input file
     * @param inputSha256 SHA-256 of the input's lines when the job was created
     * @param output the results file
     * @param errors the errors file
     * @param status the lifecycle status
     * @param reason why the job failed or was cancelled, else null
     * @param lines non-blank input lines
     * @param invalid lines that could not be sent
     * @param completed lines answered into the output file
     * @param failed lines in the errors file (rejected, timed out, invalid and skipped)
     * @param createdAt when the job was first created
     * @param updatedAt when this record was written
     * @param pid the process that wrote it
     */
    public record Entry(String id, String input, String inputSha256, String output, String errors, String status,
                        String reason, long lines, long invalid, long completed, long failed, String createdAt,
                        String updatedAt, long pid) {
        public BatchStatus lifecycle() {
            return BatchStatus.of(status);
        }

        /** Whether the process that last wrote this entry is still running. */
        public boolean running() {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        Entry with(BatchStatus s, String why, long lines, long invalid, long completed, long failed) {
            return new Entry(id, input, inputSha256, output, errors, s.id(), why, lines, invalid, completed, failed,
                    createdAt, Instant.now().toString(), ProcessHandle.current().pid());
        }
    }

    private BatchJournal(Path file) {
        this.file = file;
    }

    /** The journal of job {@code id} under {@code root} (created on first write). */
    public static BatchJournal of(Path root, String id) {
        return new BatchJournal(root.resolve(id).resolve("job.json"));
    }

    public Optional<Entry> read() {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), Entry.class));
        } catch (IOException e) {
            throw new UncheckedIOException("the batch journal " + file + " is unreadable; remove its folder to start "
                    + "the job over", e);
        }
    }

    synchronized void write(Entry entry) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("job.json.tmp");
            byte[] bytes = JSON.writeValueAsBytes(entry);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(ByteBuffer.wrap(bytes));
                ch.force(true); // on disk before the rename, so a power cut leaves the old or the new state
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the batch journal " + file, e);
        }
    }

    /**
     * Takes the job's run lock, so that two processes never run one job at once.
     *
     * @throws IllegalStateException if another process holds it
     */
    FileLock lock() {
        try {
            Files.createDirectories(file.getParent());
            FileChannel ch = FileChannel.open(file.resolveSibling("run.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock == null) {
                ch.close();
                throw new IllegalStateException("batch job " + file.getParent().getFileName() + " is being run by "
                        + "another process (pid " + read().map(Entry::pid).map(String::valueOf).orElse("unknown")
                        + "); wait for it, or stop it and run this command again");
            }
            return lock;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock the batch journal " + file.getParent(), e);
        } catch (java.nio.channels.OverlappingFileLockException e) {
            throw new IllegalStateException("batch job " + file.getParent().getFileName() + " is already running "
                    + "in this process", e);
        }
    }

    public Path file() {
        return file;
    }
}
