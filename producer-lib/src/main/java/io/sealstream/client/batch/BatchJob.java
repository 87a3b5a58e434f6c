package io.sealstream.client.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.client.AttestationFailedException;
import io.sealstream.client.KeyUnavailableException;
import io.sealstream.client.PolicyMismatchException;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.SealstreamException;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an OpenAI Batch input file through a {@link SealstreamClient}: validates every line first,
 * then sends at most {@code maxInFlight} requests at a time (the input is read as a stream and a
 * sender waits for a free slot, so memory stays bounded whatever the file's length), and writes
 * each answer as one line of the output file and each failure as one line of the errors file.
 *
 * <p><b>Resumable.</b> A job is identified by its input's content and its output path. Running the
 * same job again reads the custom_ids already in the output and errors files (cutting a line
 * half-written by a killed process), and sends only the rest, under the same request ids as
 * before (derived from the job id and the custom_id), so every custom_id lands in the files
 * exactly once. The journal ({@link BatchJournal}) records ids, states and counts, never text.
 *
 * <p><b>Failures.</b> A request the worker rejects, or that times out, becomes an errors-file line
 * and the job goes on. Attestation, policy and key failures stop the job ({@link BatchStatus#FAILED}):
 * no request could be sent safely.
 */
public final class BatchJob {
    private static final Logger LOG = LoggerFactory.getLogger(BatchJob.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SealstreamClient client;
    private final BatchInput input;
    private final Path output;
    private final Path errors;
    private final boolean errorsExplicit;
    private final Path journalRoot;
    private final int maxInFlight;
    private final Duration requestTimeout;
    private final boolean skipInvalid;
    private final Duration progressInterval;
    private volatile boolean cancelled;

    private BatchJob(Builder b) {
        this.client = b.client;
        this.input = BatchInput.of(b.input);
        this.output = b.output.toAbsolutePath();
        this.errors = (b.errors != null ? b.errors : defaultErrors(b.output)).toAbsolutePath();
        this.errorsExplicit = b.errors != null;
        this.journalRoot = b.journalRoot;
        this.maxInFlight = b.maxInFlight;
        this.requestTimeout = b.requestTimeout;
        this.skipInvalid = b.skipInvalid;
        this.progressInterval = b.progressInterval;
    }

    public static Builder builder(SealstreamClient client, Path input, Path output) {
        return new Builder(client, input, output);
    }

    /**
     * What a run did.
     *
     * @param jobId the job id (for {@code sealstream batches status})
     * @param status how the run ended
     * @param validation the input check
     * @param progress the final counts
     * @param reason why the job failed or was cancelled, else null
     */
    public record Summary(String jobId, BatchStatus status, BatchInput.Validation validation, BatchProgress progress,
                          String reason) { }

    /** Asks a running job to stop sending; requests in flight are still written. */
    public void cancel() {
        cancelled = true;
    }

    /** Runs (or resumes) the job, reporting to {@code listener}. */
    public Summary run(BatchProgress.Listener listener) {
        BatchInput.Validation v = input.validate();
        String jobId = jobId(v.sha256(), output);
        BatchJournal journal = BatchJournal.of(journalRoot, jobId);
        FileLock lock = journal.lock();
        try (FileChannel held = lock.channel()) {
            return run(v, jobId, journal, listener);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the batch job lock", e);
        }
    }

    private Summary run(BatchInput.Validation v, String jobId, BatchJournal journal, BatchProgress.Listener listener) {
        Optional<BatchJournal.Entry> earlierRun = journal.read();
        Path errorsFile = errors;
        if (earlierRun.isPresent() && !Path.of(earlierRun.get().errors()).equals(errors)) {
            if (errorsExplicit) {
                throw new IllegalStateException("job " + jobId + " writes its errors to " + earlierRun.get().errors()
                        + ", not " + errors + "; resume it with the same --errors path");
            }
            errorsFile = Path.of(earlierRun.get().errors());
        }
        if (earlierRun.isEmpty() && (size(output) > 0 || size(errorsFile) > 0)) {
            throw new IllegalStateException("the output file " + output + " or errors file " + errorsFile + " already "
                    + "has lines from another job; choose other paths or remove them");
        }
        BatchJournal.Entry entry = earlierRun.orElse(new BatchJournal.Entry(jobId, input.file().toAbsolutePath()
                .toString(), v.sha256(), output.toString(), errorsFile.toString(), BatchStatus.VALIDATING.id(), null,
                v.lines(), v.invalidCount(), 0, 0, Instant.now().toString(), Instant.now().toString(),
                ProcessHandle.current().pid()));
        journal.write(entry.with(BatchStatus.VALIDATING, null, v.lines(), v.invalidCount(), entry.completed(),
                entry.failed()));
        if (!v.allValid() && !skipInvalid) {
            String why = v.invalidCount() + " invalid input lines; nothing " + (entry.completed() + entry.failed() > 0
                    ? "more " : "") + "was sent";
            journal.write(entry.with(BatchStatus.FAILED, why, v.lines(), v.invalidCount(), entry.completed(),
                    entry.failed()));
            return new Summary(jobId, BatchStatus.FAILED, v, new BatchProgress(v.valid(), 0, 0, 0, 0, Duration.ZERO),
                    v.invalidCount() + " invalid input lines; fix them or pass --skip-invalid to send the rest");
        }
        Set<String> done = new HashSet<>();
        long earlierAnswered = readDone(output, done);
        long earlierFailed = readDone(errorsFile, done);
        Run run = new Run(jobId, journal, entry, v.total(skipInvalid), done.size(), earlierAnswered, earlierFailed,
                listener);
        try (BufferedWriter out = append(output); BufferedWriter err = append(errorsFile)) {
            run.out = out;
            run.err = err;
            if (skipInvalid) {
                input.forEachInvalid(bad -> {
                    if (done.add(doneKey(bad))) {
                        run.write(err, OpenAiLines.invalid(bad), false);
                    }
                });
                run.flush(); // on disk before any request goes out: a resume then sees them
            }
            journal.write(run.entry(BatchStatus.IN_PROGRESS, null));
            run.start();
            input.forEachValid(run::stopped, line -> {
                if (!done.contains(line.customId())) {
                    run.send(line);
                }
            });
            run.drain();
            run.stop();
            journal.write(run.entry(BatchStatus.FINALIZING, null));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the batch output files", e);
        } finally {
            run.stop();
        }
        BatchProgress last = run.progress();
        long missing = last.total() - last.done();
        BatchStatus end;
        String reason = null;
        if (run.fatal.get() != null) {
            end = BatchStatus.FAILED;
            reason = run.fatal.get();
        } else if (missing > 0 && cancelled) {
            end = BatchStatus.CANCELLED;
            reason = "cancelled with " + missing + " lines left; run the same command to resume";
        } else if (missing > 0) {
            end = BatchStatus.FAILED;
            reason = missing + " lines have no answer yet; run the same command to send them";
        } else {
            end = BatchStatus.COMPLETED;
        }
        journal.write(run.entry(end, reason));
        listener.update(last, true);
        LOG.info("batch.finished job_id={} status={} answered={} failed={} already_done={}", jobId, end.id(),
                last.answered(), last.failed(), last.alreadyDone());
        return new Summary(jobId, end, v, last, reason);
    }

    /** What marks a line done: its custom_id, or for an invalid line without one, its line number. */
    private static String doneKey(InvalidLine bad) {
        return bad.customId() != null ? bad.customId() : "#line:" + bad.lineNumber();
    }

    /** One run's sending, writing and counting. */
    private final class Run {
        private final String jobId;
        private final BatchJournal journal;
        private final BatchJournal.Entry base;
        private final long total;
        private final long alreadyDone;
        private final long earlierAnswered;
        private final long earlierFailed;
        private final BatchProgress.Listener listener;
        private final Semaphore slots = new Semaphore(maxInFlight);
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong answered = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final AtomicReference<String> fatal = new AtomicReference<>();
        private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "batch-progress");
            t.setDaemon(true);
            return t;
        });
        private long started;
        BufferedWriter out;
        BufferedWriter err;

        Run(String jobId, BatchJournal journal, BatchJournal.Entry base, long total, long alreadyDone,
            long earlierAnswered, long earlierFailed, BatchProgress.Listener listener) {
            this.jobId = jobId;
            this.journal = journal;
            this.base = base;
            this.total = total;
            this.alreadyDone = alreadyDone;
            this.earlierAnswered = earlierAnswered;
            this.earlierFailed = earlierFailed;
            this.listener = listener;
        }

        void start() {
            started = System.nanoTime();
            long ms = progressInterval.toMillis();
            ticker.scheduleAtFixedRate(() -> {
                try {
                    listener.update(progress(), false);
                    flush();
                    journal.write(entry(BatchStatus.IN_PROGRESS, null));
                } catch (RuntimeException e) {
                    // a failed tick must not end the ticks: the next one flushes again
                    LOG.warn("batch.tick_failed job_id={} error={}", jobId, e.getClass().getSimpleName());
                }
            }, ms, ms, TimeUnit.MILLISECONDS);
        }

        boolean stopped() {
            return cancelled || fatal.get() != null;
        }

        void send(BatchLine line) {
            slots.acquireUninterruptibly();
            if (stopped()) {
                slots.release();
                return;
            }
            String requestId = requestId(jobId, line.customId());
            sent.incrementAndGet();
            try {
                client.answer(requestId, line.request(), requestTimeout).whenComplete((answer, error) -> {
                    try {
                        if (error == null) {
                            write(out, OpenAiLines.answered(line.customId(), requestId, answer), true);
                        } else {
                            failure(line, requestId, error instanceof CompletionException c ? c.getCause() : error);
                        }
                    } catch (Throwable t) {
                        // the line is neither written nor counted: stop rather than report it done
                        fatal.compareAndSet(null, "writing the answer of a line failed (" + t.getClass().getSimpleName()
                                + "); run the same command to resume");
                    } finally {
                        slots.release();
                    }
                });
            } catch (SealstreamException e) {
                slots.release();
                failure(line, requestId, e);
            } catch (RuntimeException e) {
                // Kafka or the registry refused the record outright: nothing more can be sent now
                slots.release();
                fatal.compareAndSet(null, "sending failed (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                        + "); run the same command to resume");
            }
        }

        private void failure(BatchLine line, String requestId, Throwable error) {
            if (error instanceof RequestRejectedException r) {
                write(err, OpenAiLines.rejected(line.customId(), r), false);
            } else if (error instanceof AttestationFailedException || error instanceof PolicyMismatchException
                    || error instanceof KeyUnavailableException) {
                // nothing can be sent safely: stop, leave the line for a later run
                fatal.compareAndSet(null, error.getClass().getSimpleName() + ": " + error.getMessage());
            } else {
                String code = error instanceof io.sealstream.client.RequestTimeoutException ? "request_timeout"
                        : error instanceof io.sealstream.client.DeliveryFailedException ? "delivery_failed" : "client_error";
                write(err, OpenAiLines.failed(line.customId(), requestId, code, String.valueOf(error.getMessage())), false);
            }
        }

        synchronized void write(BufferedWriter to, String jsonLine, boolean success) {
            try {
                to.write(jsonLine);
                to.write('\n');
            } catch (IOException e) {
                fatal.compareAndSet(null, "cannot write the output: " + e.getMessage());
                return;
            }
            (success ? answered : failed).incrementAndGet();
        }

        synchronized void flush() {
            try {
                out.flush();
                err.flush();
            } catch (IOException e) {
                fatal.compareAndSet(null, "cannot write the output: " + e.getMessage());
            }
        }

        void drain() {
            slots.acquireUninterruptibly(maxInFlight);
            slots.release(maxInFlight);
            flush();
        }

        /** Stops the ticker and waits for a tick in progress, so no later tick overwrites the final state. */
        void stop() {
            ticker.shutdown();
            try {
                if (!ticker.awaitTermination(10, TimeUnit.SECONDS)) {
                    ticker.shutdownNow();
                }
            } catch (InterruptedException e) {
                ticker.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }

        BatchProgress progress() {
            return new BatchProgress(total, alreadyDone, sent.get(), answered.get(), failed.get(),
                    Duration.ofNanos(started == 0 ? 0 : System.nanoTime() - started));
        }

        BatchJournal.Entry entry(BatchStatus status, String reason) {
            return base.with(status, reason, base.lines(), base.invalid(), earlierAnswered + answered.get(),
                    earlierFailed + failed.get());
        }
    }

    /** The request id of a line: the same in every run of the job, so a resend is a retry, not a new request. */
    static String requestId(String jobId, String customId) {
        return UUID.nameUUIDFromBytes((jobId + "\n" + customId).getBytes(StandardCharsets.UTF_8)).toString();
    }

    static String jobId(String inputSha256, Path output) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(inputSha256.getBytes(StandardCharsets.UTF_8));
            md.update(output.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return "batch_" + HexFormat.of().formatHex(md.digest()).substring(0, 24);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Adds the custom_ids of {@code file}'s complete lines to {@code done} and cuts a last line a
     * killed process left half-written; returns how many lines it holds.
     */
    private static long readDone(Path file, Set<String> done) {
        if (!Files.exists(file)) {
            return 0;
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            long keep = 0;
            long count = 0;
            long pos = 0;
            boolean damaged = false;
            byte[] buf = new byte[1 << 16];
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            for (int n; !damaged && (n = raf.read(buf)) > 0; ) {
                for (int i = 0; i < n && !damaged; i++) {
                    pos++;
                    if (buf[i] != '\n') {
                        line.write(buf[i]);
                        continue;
                    }
                    JsonNode node = parseOrNull(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                    if (node == null) {
                        damaged = true; // only a killed writer leaves a bad line; nothing after it is trusted
                        break;
                    }
                    if (node.path("custom_id").isTextual()) {
                        done.add(node.get("custom_id").asText());
                    } else if (node.path("error").path("line").isIntegralNumber()) {
                        done.add("#line:" + node.get("error").get("line").asLong());
                    }
                    count++;
                    keep = pos;
                }
            }
            if (keep < raf.length()) {
                LOG.warn("batch.output.truncated file={} cut_bytes={}", file.getFileName(), raf.length() - keep);
                raf.setLength(keep);
            }
            return count;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " to resume the job", e);
        }
    }

    private static JsonNode parseOrNull(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static BufferedWriter append(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    static Path defaultErrors(Path output) {
        String name = output.getFileName().toString();
        String base = name.endsWith(".jsonl") ? name.substring(0, name.length() - ".jsonl".length()) : name;
        return output.resolveSibling(base + ".errors.jsonl");
    }

    /** Settings of a batch job. */
    public static final class Builder {
        private final SealstreamClient client;
        private final Path input;
        private final Path output;
        private Path errors;
        private Path journalRoot = Path.of(System.getProperty("user.home"), ".sealstream", "batches");
        private int maxInFlight = 256;
        private Duration requestTimeout = SealstreamClient.DEFAULT_REQUEST_TIMEOUT;
        private boolean skipInvalid;
        private Duration progressInterval = Duration.ofSeconds(1);

        private Builder(SealstreamClient client, Path input, Path output) {
            this.client = Objects.requireNonNull(client, "client");
            this.input = Objects.requireNonNull(input, "input");
            this.output = Objects.requireNonNull(output, "output");
        }

        /** Where failed lines go; default {@code <output>.errors.jsonl} beside the output. */
        public Builder errors(Path errors) {
            this.errors = errors;
            return this;
        }

        /** Where job journals live; default {@code ~/.sealstream/batches}. */
        public Builder journalRoot(Path root) {
            this.journalRoot = Objects.requireNonNull(root);
            return this;
        }

        /** Requests in flight at most (default 256): the sender waits for a free slot. */
        public Builder maxInFlight(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInFlight must be at least 1");
            }
            this.maxInFlight = n;
            return this;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Send the valid lines even if some are invalid (those go to the errors file). */
        public Builder skipInvalid(boolean skip) {
            this.skipInvalid = skip;
            return this;
        }

        public Builder progressInterval(Duration interval) {
            this.progressInterval = Objects.requireNonNull(interval);
            return this;
        }

        public BatchJob build() {
            return new BatchJob(this);
        }
    }
}
