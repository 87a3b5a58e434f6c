package io.sealstream.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.batch.BatchJob;
import io.sealstream.client.batch.BatchStatus;
import io.sealstream.client.batch.InvalidLine;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.MultiPart;
import org.eclipse.jetty.http.MultiPartFormData;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Content;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenAI's Batch API on the proxy: {@code /v1/files} (upload with purpose {@code batch}, list,
 * describe, download, delete) and {@code /v1/batches} (create, list, get, cancel). Each batch runs
 * as a {@link BatchJob}, the same job as {@code sealstream submit}: validated first, bounded in
 * flight, resumed after a restart of the proxy from its journal, its output in OpenAI's batch
 * output format. Batches run one at a time, in the order they were created.
 */
final class BatchApi implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FILE = Pattern.compile("/v1/files/(file-[0-9a-f]{24})(/content)?");
    private static final Pattern BATCH = Pattern.compile("/v1/batches/(batch_[0-9a-f]{24})(/cancel)?");
    /** The largest batch input file, as OpenAI allows. */
    static final long MAX_FILE_BYTES = 200L << 20;
    /** Uploads read at once. */
    static final int MAX_CONCURRENT_UPLOADS = 2;
    /** Requests in flight per batch. */
    static final int BATCH_IN_FLIGHT = 256;
    /** Request timeout of a batch line; a batch tolerates slow workers better than an interactive call. */
    static final Duration LINE_TIMEOUT = Duration.ofMinutes(5);

    private final SealstreamClient client;
    private final ProxyFiles files;
    private final Path batchDir;
    private final Path uploads;
    private final Path journals;
    private final ByteBufferPool.Sized pool;
    private final Semaphore uploading = new Semaphore(MAX_CONCURRENT_UPLOADS);
    private final Map<String, Batch> batches = new ConcurrentHashMap<>();
    private final Map<String, BatchJob> running = new ConcurrentHashMap<>();
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sealstream-proxy-batches");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopping;

    BatchApi(SealstreamClient client, Path stateDir, Duration requestTimeout, ByteBufferPool pool) {
        this.client = client;
        ProxyFiles.ownerOnlyDirectory(stateDir);
        this.files = new ProxyFiles(stateDir.resolve("files"));
        this.batchDir = stateDir.resolve("batches");
        this.uploads = stateDir.resolve("uploads");
        this.journals = stateDir.resolve("journals");
        ProxyFiles.ownerOnlyDirectory(batchDir);
        ProxyFiles.ownerOnlyDirectory(uploads);
        ProxyFiles.ownerOnlyDirectory(journals);
        this.pool = new ByteBufferPool.Sized(pool, false, 64 << 10);
    }

    /** The route of {@code path} for the access log: a template, never the ids or anything else the caller sent. */
    static String route(String path) {
        if (path.equals("/v1/files") || path.equals("/v1/batches")) {
            return path;
        }
        Matcher f = FILE.matcher(path);
        if (f.matches()) {
            return f.group(2) == null ? "/v1/files/{id}" : "/v1/files/{id}/content";
        }
        Matcher b = BATCH.matcher(path);
        if (b.matches()) {
            return b.group(2) == null ? "/v1/batches/{id}" : "/v1/batches/{id}/cancel";
        }
        return "(other)";
    }

    void handle(Exchange ex, String path) throws IOException {
        String method = ex.request.getMethod();
        switch (ex.route) {
            case "/v1/files" -> {
                if ("POST".equals(method)) {
                    upload(ex);
                } else if ("GET".equals(method)) {
                    ArrayNode data = JSON.createArrayNode();
                    files.list().forEach(f -> data.add(f.json(files.size(f.id()))));
                    ex.json(200, JSON.createObjectNode().put("object", "list").put("has_more", false).set("data", data));
                } else {
                    ex.fail(ProxyError.methodNotAllowed("GET or POST"));
                }
            }
            case "/v1/files/{id}", "/v1/files/{id}/content" -> {
                Matcher m = FILE.matcher(path);
                m.matches();
                Optional<ProxyFiles.StoredFile> f = files.get(m.group(1));
                if (f.isEmpty()) {
                    ex.fail(notFound("file", m.group(1)));
                } else if (ex.route.endsWith("/content") && "GET".equals(method)) {
                    try {
                        ex.file(files.content(f.get().id()), "application/jsonl", pool);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        ex.fail(notFound("file", f.get().id()));
                    }
                } else if (ex.route.endsWith("/content")) {
                    ex.fail(ProxyError.methodNotAllowed("GET"));
                } else if ("GET".equals(method)) {
                    ex.json(200, f.get().json(files.size(f.get().id())));
                } else if ("DELETE".equals(method)) {
                    delete(ex, f.get());
                } else {
                    ex.fail(ProxyError.methodNotAllowed("GET or DELETE"));
                }
            }
            case "/v1/batches" -> {
                if ("POST".equals(method)) {
                    create(ex);
                } else if ("GET".equals(method)) {
                    ArrayNode data = JSON.createArrayNode();
                    batches.values().stream().sorted((a, b) -> Long.compare(b.createdAt, a.createdAt))
                            .forEach(b -> data.add(b.json()));
                    ex.json(200, JSON.createObjectNode().put("object", "list").put("has_more", false).set("data", data));
                } else {
                    ex.fail(ProxyError.methodNotAllowed("GET or POST"));
                }
            }
            default -> {
                Matcher m = BATCH.matcher(path);
                m.matches();
                Batch b = batches.get(m.group(1));
                if (b == null) {
                    ex.fail(notFound("batch", m.group(1)));
                } else if (ex.route.endsWith("/cancel") && "POST".equals(method)) {
                    cancel(b);
                    ex.json(200, b.json());
                } else if (!ex.route.endsWith("/cancel") && "GET".equals(method)) {
                    ex.json(200, b.json());
                } else {
                    ex.fail(ProxyError.methodNotAllowed(ex.route.endsWith("/cancel") ? "POST" : "GET"));
                }
            }
        }
    }

    private void upload(Exchange ex) {
        String type = ex.request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String boundary = type == null ? null : MultiPart.extractBoundary(type);
        if (boundary == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
            ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "upload a file as "
                    + "multipart/form-data with the fields purpose and file", null));
            return;
        }
        if (ex.request.getLength() > MAX_FILE_BYTES + (1 << 20)) {
            ex.fail(ProxyError.tooLarge(MAX_FILE_BYTES));
            return;
        }
        if (!uploading.tryAcquire()) {
            ex.fail(ProxyError.busyUploading(MAX_CONCURRENT_UPLOADS));
            return;
        }
        MultiPartFormData.Parser parser = new MultiPartFormData.Parser(boundary);
        parser.setFilesDirectory(uploads);
        parser.setMaxMemoryFileSize(64 << 10);
        parser.setMaxFileSize(MAX_FILE_BYTES);
        parser.setMaxLength(MAX_FILE_BYTES + (1 << 20));
        parser.setMaxParts(8);
        parser.parse(ex.request).whenComplete((parts, failure) -> {
            uploading.release();
            try (MultiPartFormData.Parts held = parts) {
                if (failure != null) {
                    ex.fail(new ProxyError(400, "invalid_request_error", "invalid_upload", "the upload could not be "
                            + "read as multipart/form-data of at most " + MAX_FILE_BYTES + " bytes; send purpose and "
                            + "file again", null));
                    return;
                }
                MultiPart.Part purpose = parts.getFirst("purpose");
                MultiPart.Part file = parts.getFirst("file");
                if (purpose == null || !"batch".equals(purpose.getContentAsString(StandardCharsets.UTF_8).strip())) {
                    ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "purpose must be "
                            + "\"batch\": the proxy keeps files for the Batch API only", "purpose"));
                    return;
                }
                if (file == null) {
                    ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "the upload has no "
                            + "file field", "file"));
                    return;
                }
                Path staged = Files.createTempFile(uploads, "upload", ".jsonl");
                try {
                    file.writeTo(staged);
                    ProxyFiles.StoredFile stored = files.add(staged, file.getFileName(), "batch");
                    ex.json(200, stored.json(files.size(stored.id())));
                } finally {
                    Files.deleteIfExists(staged);
                }
            } catch (IOException | UncheckedIOException e) {
                LOG.warn("proxy.files.store_failed error={}", e.getClass().getName());
                ex.fail(new ProxyError(507, "server_error", "storage_unavailable", "the proxy could not store "
                        + "the file in its state directory (is the disk full?); free space and upload it again", null));
            } catch (RuntimeException e) {
                ex.fail(ProxyError.of(e));
            }
        });
    }

    private void delete(Exchange ex, ProxyFiles.StoredFile f) throws IOException {
        boolean inUse = batches.values().stream().anyMatch(b -> b.active() && (f.id().equals(b.inputFileId)
                || f.id().equals(b.outputFileId) || f.id().equals(b.errorFileId)));
        if (inUse) {
            ex.fail(new ProxyError(409, "invalid_request_error", "file_in_use", "a batch that is not finished uses "
                    + "this file; cancel the batch first", null));
            return;
        }
        files.delete(f.id());
        ex.json(200, JSON.createObjectNode().put("id", f.id()).put("object", "file").put("deleted", true));
    }

    private void create(Exchange ex) throws IOException {
        JsonNode body;
        try {
            byte[] bytes = Content.Source.asInputStream(ex.request).readNBytes((64 << 10) + 1);
            if (bytes.length > 64 << 10) {
                ex.fail(ProxyError.tooLarge(64 << 10));
                return;
            }
            body = JSON.readTree(bytes);
        } catch (IOException e) {
            ex.fail(ProxyError.notJson());
            return;
        }
        if (body == null || !body.isObject()) {
            ex.fail(ProxyError.notJson());
            return;
        }
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!List.of("input_file_id", "endpoint", "completion_window", "metadata").contains(field)) {
                ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request",
                        io.sealstream.client.openai.OpenAiRequests.clip(field) + " is not a supported field", field));
                return;
            }
        }
        String endpoint = body.path("endpoint").asText("");
        if (!endpoint.equals("/v1/embeddings") && !endpoint.equals("/v1/chat/completions")) {
            ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "endpoint must be /v1/embeddings "
                    + "or /v1/chat/completions", "endpoint"));
            return;
        }
        if (!"24h".equals(body.path("completion_window").asText(""))) {
            ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "completion_window must be \"24h\"",
                    "completion_window"));
            return;
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = body.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject() || md.size() > 16) {
                ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "metadata must be an object of "
                        + "at most 16 string values", "metadata"));
                return;
            }
            for (var it = md.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isTextual() || e.getKey().length() > 64 || e.getValue().asText().length() > 512) {
                    ex.fail(new ProxyError(400, "invalid_request_error", "invalid_request", "metadata keys are at most "
                            + "64 characters and values strings of at most 512", "metadata"));
                    return;
                }
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        String input = body.path("input_file_id").asText("");
        if (files.get(input).isEmpty()) {
            ex.fail(notFound("file", input));
            return;
        }
        Batch b = new Batch(newId(), input, endpoint, Instant.now().getEpochSecond(), metadata);
        try {
            b.outputFileId = files.create("batch_output.jsonl", "batch_output").id();
            b.errorFileId = files.create("batch_errors.jsonl", "batch_output").id();
            save(b); // on disk before anyone hears of it: a batch the proxy could forget would be answered twice
        } catch (IOException | UncheckedIOException e) {
            for (String f : new String[] {b.outputFileId, b.errorFileId}) {
                if (f != null) {
                    files.delete(f);
                }
            }
            LOG.warn("proxy.batch.store_failed error={}", e.getClass().getName());
            ex.fail(new ProxyError(507, "server_error", "storage_unavailable", "the proxy could not store the batch "
                    + "in its state directory (is the disk full?); free space and create it again", null));
            return;
        }
        batches.put(b.id, b);
        ex.json(200, b.json());
        queue(b);
    }

    private void cancel(Batch b) {
        synchronized (b) {
            if (!b.active()) {
                return;
            }
            BatchJob job = running.get(b.id);
            if (job == null) {
                b.status = "cancelled";
                b.cancelledAt = now();
            } else {
                b.status = "cancelling";
                b.cancellingAt = now();
                job.cancel();
            }
        }
        update(b);
    }

    /** Queues every batch a stopped proxy left unfinished; a batch asked to stop ends cancelled. */
    void resume() {
        try (Stream<Path> s = Files.list(batchDir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".json")).forEach(p -> {
                try {
                    Batch b = Batch.read(JSON.readTree(p.toFile()));
                    batches.put(b.id, b);
                    if (b.status.equals("cancelling")) {
                        finish(b, "cancelled", b.errors); // with the counts and output of what was answered
                    } else if (b.active()) {
                        queue(b);
                    }
                } catch (IOException | RuntimeException e) {
                    LOG.warn("proxy.batches.unreadable file={} error={}", p.getFileName(), e.getClass().getName());
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + batchDir, e);
        }
    }

    private void queue(Batch b) {
        runner.execute(() -> run(b));
    }

    private void run(Batch b) {
        synchronized (b) {
            if (!b.active() || stopping) {
                return;
            }
        }
        Path input = files.content(b.inputFileId);
        try {
            Optional<String> mismatch = mismatchedUrl(input, b.endpoint);
            if (mismatch.isPresent()) {
                finish(b, "failed", List.of(error("mismatched_url", mismatch.get(), null)));
                return;
            }
            BatchJob job = BatchJob.builder(client, input, files.content(b.outputFileId))
                    .errors(files.content(b.errorFileId)).journalRoot(journals).maxInFlight(BATCH_IN_FLIGHT)
                    .requestTimeout(LINE_TIMEOUT).build();
            synchronized (b) {
                if (!b.active() || stopping) {
                    return;
                }
                running.put(b.id, job);
                b.status = "in_progress";
                b.inProgressAt = b.inProgressAt == 0 ? now() : b.inProgressAt;
            }
            update(b);
            BatchJob.Summary s = job.run((progress, last) -> {
                b.total = progress.total();
                b.completed = progress.alreadyDone() + progress.answered();
                b.failed = progress.failed();
            });
            running.remove(b.id);
            if (stopping && s.status() == BatchStatus.CANCELLED) {
                return; // the proxy stops, not the user: it stays in progress and resumes at the next start
            }
            List<ObjectNode> errors = new ArrayList<>();
            for (InvalidLine bad : s.validation().invalid()) {
                errors.add(error("invalid_line", bad.reason(), bad.lineNumber()));
            }
            if (s.status() == BatchStatus.FAILED && errors.isEmpty() && s.reason() != null) {
                errors.add(error("batch_failed", s.reason(), null));
            }
            b.total = s.validation().valid();
            finish(b, switch (s.status()) {
                case COMPLETED -> "completed";
                case CANCELLED -> "cancelled";
                default -> "failed";
            }, errors);
        } catch (RuntimeException | IOException e) {
            running.remove(b.id);
            LOG.warn("proxy.batch.failed batch_id={} error={}", b.id, e.getClass().getName());
            finish(b, "failed", List.of(error("batch_failed", "the batch could not run (" + e.getClass().getSimpleName()
                    + "); see the proxy's log, then create it again", null)));
        }
    }

    private void finish(Batch b, String status, List<ObjectNode> errors) {
        synchronized (b) {
            b.status = status;
            b.errors = errors;
            b.completed = lines(files.content(b.outputFileId));
            b.failed = lines(files.content(b.errorFileId));
            b.total = Math.max(b.total, b.completed + b.failed);
            long t = now();
            switch (status) {
                case "completed" -> b.completedAt = t;
                case "cancelled" -> b.cancelledAt = t;
                default -> b.failedAt = t;
            }
        }
        update(b);
        LOG.info("proxy.batch.finished batch_id={} status={} completed={} failed={}", b.id, status, b.completed,
                b.failed);
    }

    /** The first line whose url is not the batch's endpoint, as OpenAI requires all to be. */
    private static Optional<String> mismatchedUrl(Path input, String endpoint) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(input, StandardCharsets.UTF_8)) {
            String line;
            long n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode url;
                try {
                    url = JSON.readTree(line).path("url");
                } catch (IOException e) {
                    continue; // the job's own validation names it
                }
                if (url.isTextual() && !url.asText().equals(endpoint)) {
                    return Optional.of("line " + n + " asks for another url than the batch's endpoint " + endpoint
                            + "; one batch serves one endpoint");
                }
            }
        }
        return Optional.empty();
    }

    private static long lines(Path file) {
        try (Stream<String> s = Files.lines(file, StandardCharsets.UTF_8)) {
            return s.filter(l -> !l.isBlank()).count();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    /** Writes the batch's state (atomically); throws when it cannot. */
    private void save(Batch b) throws IOException {
        Path tmp = batchDir.resolve(b.id + ".json.tmp");
        Files.writeString(tmp, b.state().toString());
        Files.move(tmp, batchDir.resolve(b.id + ".json"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** As {@link #save}, after the batch exists: a state that cannot be written is logged; the batch goes on. */
    private void update(Batch b) {
        try {
            save(b);
        } catch (IOException e) {
            LOG.warn("proxy.batch.unsaved batch_id={} error={}", b.id, e.getClass().getName());
        }
    }

    private static ObjectNode error(String code, String message, Long line) {
        ObjectNode e = JSON.createObjectNode().put("code", code).put("message", message).putNull("param");
        if (line == null) {
            e.putNull("line");
        } else {
            e.put("line", line);
        }
        return e;
    }

    private static ProxyError notFound(String what, String id) {
        return new ProxyError(404, "invalid_request_error", what + "_not_found", "no " + what + " "
                + io.sealstream.client.openai.OpenAiRequests.clip(id) + " here; list them with GET /v1/" + what + "s",
                null);
    }

    private static long now() {
        return Instant.now().getEpochSecond();
    }

    private static String newId() {
        return ProxyFiles.randomId("batch_");
    }

    /** Stops the running batch so that it resumes at the next start; queued ones stay queued on disk. */
    @Override
    public void close() {
        stopping = true;
        running.values().forEach(BatchJob::cancel);
        runner.shutdown();
        try {
            runner.awaitTermination(LINE_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A batch and its OpenAI batch object. */
    private static final class Batch {
        final String id;
        final String inputFileId;
        final String endpoint;
        final long createdAt;
        final Map<String, String> metadata;
        volatile String status = "validating";
        volatile String outputFileId;
        volatile String errorFileId;
        volatile long inProgressAt;
        volatile long completedAt;
        volatile long failedAt;
        volatile long cancellingAt;
        volatile long cancelledAt;
        volatile long total;
        volatile long completed;
        volatile long failed;
        volatile List<ObjectNode> errors = List.of();

        Batch(String id, String inputFileId, String endpoint, long createdAt, Map<String, String> metadata) {
            this.id = id;
            this.inputFileId = inputFileId;
            this.endpoint = endpoint;
            this.createdAt = createdAt;
            this.metadata = metadata;
        }

        boolean active() {
            return status.equals("validating") || status.equals("in_progress") || status.equals("finalizing")
                    || status.equals("cancelling");
        }

        boolean finished() {
            return !active();
        }

        /** OpenAI's batch object; the output and error files appear once the batch has ended. */
        synchronized ObjectNode json() {
            ObjectNode n = JSON.createObjectNode().put("id", id).put("object", "batch").put("endpoint", endpoint);
            if (errors.isEmpty()) {
                n.putNull("errors");
            } else {
                ArrayNode data = n.putObject("errors").put("object", "list").putArray("data");
                errors.forEach(data::add);
            }
            n.put("input_file_id", inputFileId).put("completion_window", "24h").put("status", status);
            if (finished() && completed > 0) {
                n.put("output_file_id", outputFileId);
            } else {
                n.putNull("output_file_id");
            }
            if (finished() && failed > 0) {
                n.put("error_file_id", errorFileId);
            } else {
                n.putNull("error_file_id");
            }
            n.put("created_at", createdAt);
            time(n, "in_progress_at", inProgressAt);
            n.put("expires_at", createdAt + 24 * 3600);
            time(n, "completed_at", completedAt);
            time(n, "failed_at", failedAt);
            time(n, "cancelling_at", cancellingAt);
            time(n, "cancelled_at", cancelledAt);
            n.putObject("request_counts").put("total", total).put("completed", completed).put("failed", failed);
            ObjectNode md = n.putObject("metadata");
            metadata.forEach(md::put);
            return n;
        }

        /** What is saved: the batch object plus the file ids it holds back until the end. */
        synchronized ObjectNode state() {
            return json().put("sealstream_output_file_id", outputFileId).put("sealstream_error_file_id", errorFileId);
        }

        static Batch read(JsonNode n) {
            Map<String, String> md = new LinkedHashMap<>();
            n.path("metadata").fields().forEachRemaining(e -> md.put(e.getKey(), e.getValue().asText()));
            Batch b = new Batch(n.path("id").asText(), n.path("input_file_id").asText(), n.path("endpoint").asText(),
                    n.path("created_at").asLong(), md);
            if (!b.id.matches("batch_[0-9a-f]{24}")) {
                throw new IllegalArgumentException("not a batch id");
            }
            b.status = n.path("status").asText("failed");
            b.outputFileId = n.path("sealstream_output_file_id").asText();
            b.errorFileId = n.path("sealstream_error_file_id").asText();
            b.inProgressAt = n.path("in_progress_at").asLong(0);
            b.completedAt = n.path("completed_at").asLong(0);
            b.failedAt = n.path("failed_at").asLong(0);
            b.cancellingAt = n.path("cancelling_at").asLong(0);
            b.cancelledAt = n.path("cancelled_at").asLong(0);
            b.total = n.path("request_counts").path("total").asLong();
            b.completed = n.path("request_counts").path("completed").asLong();
            b.failed = n.path("request_counts").path("failed").asLong();
            List<ObjectNode> errors = new ArrayList<>();
            n.path("errors").path("data").forEach(e -> errors.add((ObjectNode) e));
            b.errors = errors;
            return b;
        }

        private static void time(ObjectNode n, String field, long t) {
            if (t == 0) {
                n.putNull(field);
            } else {
                n.put(field, t);
            }
        }
    }
}
