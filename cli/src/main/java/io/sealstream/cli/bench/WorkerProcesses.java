package io.sealstream.cli.bench;

import io.sealstream.cli.stack.Readiness;
import io.sealstream.cli.stack.ServiceCommand;
import io.sealstream.localstack.LocalStack;
import io.sealstream.service.ServiceExit;
import io.sealstream.worker.WorkerSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Worker processes beside an embedded stack, started as a deployment starts them: the worker's own
 * main from a config file, on the worker's own class path (its jar and {@code lib/}, built by
 * {@code mvn package}) when that is built, so they run without the CLI, the broker or the dev
 * stack. Ready when /readyz says so.
 */
public final class WorkerProcesses implements AutoCloseable {
    /** Writes a worker's config file: the deployment's settings for {@code workerId}, with {@code more} on top. */
    @FunctionalInterface
    public interface ConfigWriter {
        Path write(String workerId, Map<String, String> more);
    }

    private static final Pattern REPLACEMENTS = Pattern.compile("\"stream_thread_replacements\":(\\d+)");
    private static final Pattern ENGINE_REQUESTS = Pattern.compile("\"engine_requests\":(\\d+)");
    private final ConfigWriter configs;
    private final List<Worker> workers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, Integer> exits = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    record Worker(Process process, int healthPort, Path log) {
        void kill() {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Workers beside the embedded stack. */
    public WorkerProcesses(LocalStack stack) {
        this(stack::writeWorkerConfig);
    }

    /** Workers whose config files {@code configs} writes. */
    public WorkerProcesses(ConfigWriter configs) {
        this.configs = configs;
    }

    /**
     * Starts a worker with the synthetic engine and short timeouts: a killed worker's open
     * transaction blocks readers until it times out (10 s here).
     */
    Worker start(String id) throws IOException, InterruptedException {
        return start(id, Map.of());
    }

    /** As {@link #start(String)}, with {@code more} settings on top. */
    Worker start(String id, Map<String, String> more) throws IOException, InterruptedException {
        // C1 only: a fault scenario's workers live for minutes, too short for C2 to repay its compiling
        return start(id, more, "512m", List.of("-XX:TieredStopAtLevel=1"));
    }

    /** As {@link #start(String, Map)}, in a JVM with heap {@code maxHeap} and {@code jvmOptions}. */
    Worker start(String id, Map<String, String> more, String maxHeap, List<String> jvmOptions)
            throws IOException, InterruptedException {
        if (closed) {
            throw new IllegalStateException("worker " + id + " not started: the worker processes are closed");
        }
        int port = io.sealstream.devstack.LoopbackPorts.free();
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                WorkerSettings.ENGINE.name(), "synthetic",
                WorkerSettings.HEALTH_PORT.name(), Integer.toString(port),
                WorkerSettings.MAX_BATCH_SIZE.name(), "64",
                WorkerSettings.BATCH_LINGER.name(), "20",
                WorkerSettings.TRANSACTION_TIMEOUT.name(), "10000",
                "streams.session.timeout.ms", "6000",
                "streams.heartbeat.interval.ms", "1000"));
        settings.putAll(more);
        Path config = configs.write(id, settings);
        Path log = config.resolveSibling(id + ".log"); // beside its config, in the deployment's directory
        List<String> command = ServiceCommand.WORKER.command(maxHeap, config, jvmOptions.toArray(String[]::new));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Worker w = new Worker(pb.start(), port, log);
        workers.add(w);
        if (closed) { // closed while this one started: it must not outlive the others
            w.process().destroyForcibly();
            throw new IllegalStateException("worker " + id + " stopped: the worker processes were closed meanwhile");
        }
        Readiness.await(URI.create("http://127.0.0.1:" + port + io.sealstream.worker.TeeWorker.READY_PATH), w.process(), Duration.ofSeconds(120),
                "worker " + id, log);
        return w;
    }

    /** Starts workers {@code ids} side by side, each as {@link #start(String, Map)}; returns once all are ready. */
    List<Worker> startAll(List<String> ids, Map<String, String> more) throws IOException, InterruptedException {
        List<java.util.concurrent.CompletableFuture<Worker>> starts = new java.util.ArrayList<>();
        for (String id : ids) {
            starts.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return start(id, more);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("worker " + id + " not started: interrupted", e);
                }
            }));
        }
        List<Worker> started = new java.util.ArrayList<>();
        for (var f : starts) {
            try {
                started.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof java.io.UncheckedIOException io) {
                    throw io.getCause();
                }
                throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            }
        }
        return started;
    }

    /**
     * Sends SIGTERM, as an orchestrator stopping the worker would, and waits for it to exit;
     * records how it exited.
     */
    void stop(Worker w) {
        w.process().destroy();
        try {
            boolean exited = w.process().waitFor(60, TimeUnit.SECONDS);
            String how = !exited ? "did_not_exit" : io.sealstream.service.ServiceExit.ofCode(w.process().exitValue())
                    .map(e -> e.name().toLowerCase(java.util.Locale.ROOT)).orElse("status_" + w.process().exitValue());
            exits.merge(how, 1, Integer::sum);
        } catch (InterruptedException e) {
            exits.merge("not_awaited", 1, Integer::sum); // every stop counts, so a check on exits sees it
            Thread.currentThread().interrupt();
        }
    }

    /** How the workers {@link #stop} stopped exited, by exit name. */
    Map<String, Integer> exits() {
        return Map.copyOf(exits);
    }

    /** For a fault callback: starts a replacement on its own thread, so the client keeps reading. */
    void startQuietly(String id) {
        Thread t = new Thread(() -> {
            try {
                start(id);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "fault-start-" + id);
        t.start();
    }

    int threadReplacements() {
        int total = 0;
        for (Worker w : workers) {
            if (w.process().isAlive()) {
                Matcher m = REPLACEMENTS.matcher(get(w, io.sealstream.worker.TeeWorker.HEALTH_PATH));
                total += m.find() ? Integer.parseInt(m.group(1)) : 0;
            }
        }
        return total;
    }

    /** How many requests {@code w}'s engine has answered since it started, from its /healthz; -1 if it is down. */
    long engineRequests(Worker w) {
        Matcher m = ENGINE_REQUESTS.matcher(get(w, io.sealstream.worker.TeeWorker.HEALTH_PATH));
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private String get(Worker w, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + w.healthPort()
                    + path)).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "down";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "down";
        }
    }


    @Override
    public void close() {
        closed = true;
        workers.forEach(w -> w.process().destroyForcibly());
    }
}
