package io.sealstream.worker;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.SessionKeyCache;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.service.ServiceMetrics;
import io.sealstream.streams.AdminTopicDirectory;
import io.sealstream.streams.EngineBatcher;
import io.sealstream.streams.InferenceTopology;
import io.sealstream.worker.engine.InferenceEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A confidential worker. Boot sequence (ARCHITECTURE.md §7): the TEE is given, the engines are
 * loaded and their model files measured, then the worker attests to the key broker with evidence
 * bound to its ephemeral key and the model digest, receives the topic keys, and only then starts
 * the exactly-once stream processor. {@code /readyz} answers 200 only after keys arrived and the
 * streams run. A worker the policy refuses never starts consuming.
 */
public final class TeeWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TeeWorker.class);
    /**
     * How long a worker whose engine hangs waits for its stream threads to take the hung batch's
     * failures before it leaves its group (they take results every few ms; a stream thread blocked
     * at the batcher is released within a second).
     */
    private static final Duration ABANDONED_ANSWER_WAIT = Duration.ofSeconds(5);
    /** Liveness: 200 unless the engine stalled (Kubernetes' liveness and startup probes). */
    public static final String HEALTH_PATH = "/healthz";
    /** Readiness: 200 once keys arrived and the streams run (Kubernetes' readiness probe). */
    public static final String READY_PATH = "/readyz";
    /**
     * How long closing waits for the stream threads to commit what they answered; within
     * Kubernetes' default 30 s grace period, with room for the engine and the process to end.
     */
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(20);
    /**
     * How long closing waits for a batch still in the engine: its answers can no longer be
     * committed (the stream processor closed first; other workers replay them), so the wait only
     * lets the engine's native memory be freed in order.
     */
    private static final Duration ENGINE_SHUTDOWN_WAIT = Duration.ofSeconds(5);
    /** The longest a graceful stop takes after SIGTERM: a pod's termination grace period must exceed it. */
    public static final Duration LONGEST_SHUTDOWN = SHUTDOWN_TIMEOUT.plus(ENGINE_SHUTDOWN_WAIT);
    /** How often the consumer-lag gauges are read from the stream processor's consumers. */
    private static final Duration LAG_REFRESH = Duration.ofSeconds(5);

    private final WorkerConfig config;
    private final List<InferenceEngine> engines;
    private final KeyAcquisition keys;
    private volatile KafkaStreams streams;
    private final java.util.function.Supplier<KafkaStreams> newStreams;
    private final AdminTopicDirectory topics;
    private final java.util.concurrent.atomic.AtomicInteger threadReplacements = new java.util.concurrent.atomic.AtomicInteger();
    private final HttpServer health;
    /** The worker's registry, served at {@link ServiceMetrics#PATH} beside the health endpoints. */
    private final ServiceMetrics metrics = new ServiceMetrics();
    /** The worker's one engine batcher: every stream task of every stream processor it runs feeds it. */
    private final EngineBatcher batcher;
    /** Sends the chunks of streamed answers, outside the transactions (docs/streaming.md). */
    private final io.sealstream.streams.ChunkPublisher chunks;
    private final byte[] modelDigest;
    /** Looks every second whether the engine hangs; see {@link #checkEngine}. */
    private final java.util.concurrent.ScheduledExecutorService engineWatch;
    private volatile boolean engineStalled;
    /** Completed once a hung engine made the worker leave its group: the process should end. */
    private final java.util.concurrent.CompletableFuture<Void> stalledAndLeft = new java.util.concurrent.CompletableFuture<>();
    private boolean closed;

    private TeeWorker(WorkerConfig config, EvidenceProvider tee, List<InferenceEngine> engines)
            throws KeyBrokerException, AttestationException {
        this.config = config;
        this.engines = List.copyOf(engines);
        this.modelDigest = modelDigest(engines);
        // bound first and served last: a port in use fails the start before anything runs
        this.health = bindHealth(config.healthAddress(), config.healthPort());
        Deque<AutoCloseable> started = new ArrayDeque<>(); // undone in reverse if the start fails
        started.push(metrics);
        WorkerMeters workerMeters = new WorkerMeters(metrics.meters());
        started.push(() -> {
            // the socket is registered with the server's selector, so only its dispatcher thread
            // can release it: a server that never started must start to stop
            health.start();
            health.stop(0);
        });
        try {
            workerMeters.engines(engines);
            SessionKeyCache sessionKeys = new SessionKeyCache();
            workerMeters.sessionKeys(sessionKeys);
            java.util.Map<String, String> digestsByModel = new java.util.HashMap<>();
            for (InferenceEngine e : engines) {
                e.models().forEach(m -> digestsByModel.put(m, java.util.HexFormat.of().formatHex(e.modelDigest())));
            }
            RequestOpener opener = RequestOpener.builder().sessionKeyCache(sessionKeys).modelDigests(digestsByModel).build();
            // the family's keyset opens every client's request topic (sealstream.requests.<client>)
            String topic = config.streams().requestTopicFamily();
            java.util.Map<String, String> served = new java.util.TreeMap<>();
            for (InferenceEngine e : engines) {
                e.models().forEach(name -> served.put(name, java.util.HexFormat.of().formatHex(e.modelDigest())));
            }
            this.keys = new KeyAcquisition(new KeyBrokerClient(config.keyBrokerUrl(), config.brokerTimeout()), tee,
                    engines.stream().map(InferenceEngine::modelDigest).toList(), served, topic, opener);
            started.push(keys);
            workerMeters.lease(keys::leaseExpiresAt);
            keys.acquire();
            SchemaRegistryClient registry = new SchemaRegistryClient(config.schemaRegistryUrl(), config.brokerTimeout());
            this.topics = AdminTopicDirectory.forConfig(config.streams());
            started.push(topics);
            checkTopics(config, topics);
            if (config.streams().kafkaSecurity().protocol() == io.sealstream.tenancy.KafkaSecurity.Protocol.PLAINTEXT) {
                LOG.warn("worker.kafka.plaintext worker_id={} remedy=\"give the workers' SASL_SSL credentials; PLAINTEXT is for "
                        + "benchmark brokers only\"", config.workerId());
            }
            EngineRouter router = new EngineRouter(engines);
            router.bindTo(metrics.meters());
            this.batcher = EngineBatcher.start(router, config.streams(), metrics.meters());
            started.push(batcher); // its thread would outlive a worker that never started
            this.chunks = io.sealstream.streams.ChunkPublisher.create(config.streams(), registry);
            started.push(chunks);
            this.newStreams = () -> {
                KafkaStreams s = new KafkaStreams(
                        InferenceTopology.build(config.streams(), opener, batcher, registry, topics, keys, chunks),
                        config.streams().streamsProperties(topics));
                s.setUncaughtExceptionHandler(e -> {
                    threadReplacements.incrementAndGet();
                    LOG.error("worker.streams.failed worker_id={} error={}", config.workerId(), e.getClass().getSimpleName(), e);
                    return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
                });
                return s;
            };
            this.streams = newStreams.get();
            started.push(() -> streams.close(Duration.ofSeconds(30)));
            streams.start();
            keys.refreshEvery(config.keyRefresh(), new KeyAcquisition.LeaseListener() {
                @Override
                public void leaseLost() {
                    stopConsuming("lease_expired");
                }

                @Override
                public void keysRestored() {
                    startConsuming();
                }
            });
            this.engineWatch = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sealstream-engine-watch");
                t.setDaemon(true);
                return t;
            });
            started.push(engineWatch::shutdownNow);
            engineWatch.scheduleWithFixedDelay(this::checkEngine, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
            String requestTopics = config.streams().requestTopicFamily() + ".";
            engineWatch.scheduleWithFixedDelay(() -> workerMeters.refreshLag(streams, requestTopics),
                    LAG_REFRESH.toMillis(), LAG_REFRESH.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            serveHealth();
        } catch (Throwable e) {
            synchronized (this) {
                closed = true; // a key refresh that lands meanwhile must not start fresh streams
            }
            undo(started, e);
            throw e;
        }
        LOG.info("worker.started worker_id={} tee={} model_digest={} models={} health=http://{}:{}",
                config.workerId(), tee.tee().id(), HexFormat.of().formatHex(modelDigest),
                engines.stream().flatMap(e -> e.models().stream()).sorted().toList(),
                health.getAddress().getAddress().getHostAddress(), health.getAddress().getPort());
    }

    /** Stops what a failed start had started, newest first; a failure to stop is added to {@code cause}. */
    private static void undo(Deque<AutoCloseable> started, Throwable cause) {
        while (!started.isEmpty()) {
            try {
                started.pop().close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }
    }

    /**
     * Boots a worker: attests, receives keys, starts consuming.
     *
     * @throws KeyBrokerException if the key broker refuses this worker (403: its measurement or model
     *     is not in the policy; 401: its evidence did not verify) — the worker holds no keys then
     */
    public static TeeWorker start(WorkerConfig config, EvidenceProvider tee, List<InferenceEngine> engines)
            throws KeyBrokerException, AttestationException {
        if (engines.isEmpty()) {
            throw new IllegalArgumentException("a worker needs at least one inference engine");
        }
        return new TeeWorker(config, tee, engines);
    }

    /**
     * Checked before the worker consumes: the DLQ topic exists (a record that cannot be answered
     * must have somewhere to go). Request topics come and go with clients; one that allows records
     * larger than a worker can buffer has such records dead-lettered unbuffered.
     */
    private static void checkTopics(WorkerConfig config, AdminTopicDirectory topics) {
        String dlq = config.streams().dlqTopic();
        java.util.OptionalInt dlqLimit = topics.maxValueBytes(dlq);
        if (dlqLimit.isEmpty()) {
            throw new IllegalStateException("the dead-letter topic '" + dlq + "' does not exist; create it before "
                    + "starting workers (docs/operations.md)");
        }
        LOG.info("worker.limits dlq_max_value_bytes={} request_topics={}.*", dlqLimit.getAsInt(),
                config.streams().requestTopicFamily());
    }

    /** The digest the worker attests to: {@link ReportDataBinding#modelSetDigest} of its engines' digests. */
    static byte[] modelDigest(List<InferenceEngine> engines) {
        return ReportDataBinding.modelSetDigest(engines.stream().map(InferenceEngine::modelDigest).toList());
    }

    /**
     * The lease ended without renewal and the keys are gone: leave the consumer group (committing
     * what is done, so the partitions move to workers that still hold keys) instead of holding
     * partitions nobody can serve.
     */
    private synchronized void stopConsuming(String reason) {
        LOG.warn("worker.consuming.stopped worker_id={} reason={}", config.workerId(), reason);
        closeLeavingGroup(Duration.ofSeconds(30));
    }

    /**
     * Closes the stream processor and leaves the consumer group at once, so its partitions move to
     * the other workers now rather than after the session timeout (45 s by default): Kafka Streams
     * otherwise stays in the group on close. Returns whether it closed within {@code timeout}.
     */
    private boolean closeLeavingGroup(Duration timeout) {
        return streams.close(org.apache.kafka.streams.CloseOptions.groupMembershipOperation(
                org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(timeout));
    }

    /**
     * An engine that has run one batch for twice the transaction timeout hangs (raise the transaction
     * timeout for an engine whose largest batch takes longer): the worker leaves its group, so its partitions and the requests it
     * buffered move to workers whose engines answer, and {@code /healthz} fails so that an
     * orchestrator restarts it. A thread inside the engine cannot be stopped safely; a new
     * process is the cure.
     */
    private void checkEngine() {
        if (engineStalled || !batcher.stalled()) {
            return;
        }
        long runningMs = batcher.runningBatchAge().toMillis();
        // the hung batch's requests are answered as failed before the worker leaves: buffered, they
        // would move to the next worker, and a request that hangs engines would hang each in turn
        int failed = batcher.abandonRunningBatch();
        if (failed == 0 && !batcher.stalled()) {
            return; // the batch finished after all, just now
        }
        engineStalled = true;
        LOG.error("worker.engine.stalled worker_id={} batch_running_ms={} requests_failed={} remedy=\"restart the worker; "
                + "it left its group, so its partitions move to the other workers\"", config.workerId(), runningMs, failed);
        try {
            batcher.awaitAbandonedFailuresTaken(ABANDONED_ANSWER_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopConsuming("engine_stalled"); // closing commits the error answers the stream threads sent
        stalledAndLeft.complete(null);
    }

    /**
     * Runs {@code action} once the worker found its engine hanging and left its group: a worker
     * process then ends (the thread inside the engine cannot be stopped otherwise) so that its
     * orchestrator starts a fresh one.
     */
    public void whenEngineStalled(Runnable action) {
        stalledAndLeft.thenRun(action);
    }

    /** Keys arrived again under a new lease: consume with a fresh stream processor. */
    private synchronized void startConsuming() {
        if (closed || engineStalled) {
            return;
        }
        KafkaStreams fresh = newStreams.get();
        fresh.start();
        streams = fresh;
        LOG.info("worker.consuming.started worker_id={} reason=keys_restored", config.workerId());
    }

    /** Whether the worker holds topic keys: false once its lease ended without renewal, until keys arrive again. */
    public boolean holdsKeys() {
        return keys.holdsKeys();
    }

    /** Ready: keys installed under a valid lease, the stream processor running and the engine answering. */
    public boolean isReady() {
        return keys.hasValidLease() && streams.state() == KafkaStreams.State.RUNNING && !engineStalled;
    }

    /** Whether the worker found its engine hanging and left its group; only a restart clears it. */
    public boolean engineStalled() {
        return engineStalled;
    }

    /** The engine's batches, requests and busy time since start (see {@link EngineBatcher.Totals}). */
    public EngineBatcher.Totals engineTotals() {
        return batcher.totals();
    }

    /**
     * Key releases refused since start: ones that do not open under this worker's key and current
     * lease (a replay, or another worker's) or that are older than the keys it holds.
     */
    public long refusedKeyReleases() {
        return keys.refusedReleases();
    }

    /** This worker's id ({@code worker.id}). */
    public String workerId() {
        return config.workerId();
    }

    /**
     * How many times a stream thread failed and was replaced since start. No record can cause
     * this (ARCHITECTURE.md §8); a non-zero count means a fault of the cluster or a bug.
     */
    public int streamThreadReplacements() {
        return threadReplacements.get();
    }

    /** The SHA-256 the worker attested to, in hex. */
    public String modelDigestHex() {
        return HexFormat.of().formatHex(modelDigest);
    }

    /** Base URL of the health endpoints. */
    /** Where the health endpoints answer; a worker that listens on every address is reached on loopback. */
    public String healthUrl() {
        InetSocketAddress at = health.getAddress();
        String host = at.getAddress().isAnyLocalAddress() ? "127.0.0.1" : at.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + at.getPort();
    }

    public KafkaStreams.State streamsState() {
        return streams.state();
    }

    static HttpServer bindHealth(String address, int port) {
        InetSocketAddress at = new InetSocketAddress(address, port);
        if (at.isUnresolved()) {
            throw new IllegalArgumentException("the worker's health address '" + address + "' does not resolve; "
                    + "give an IP address or a host name of this machine");
        }
        try {
            return HttpServer.create(at, 8);
        } catch (IOException e) {
            throw new UncheckedIOException("the worker's health endpoint cannot listen on port " + port + " of "
                    + address + " (" + e.getMessage() + "); free the port or set another health port", e);
        }
    }

    private void serveHealth() {
        health.createContext(HEALTH_PATH, ex -> {
            if (engineStalled) {
                respond(ex, 503, "{\"status\":\"engine_stalled\",\"batch_running_ms\":"
                        + batcher.runningBatchAge().toMillis() + "}");
            } else {
                // traffic counts tell whoever can reach the port how busy the worker is and when:
                // only callers on this machine see them (probes from elsewhere get the status)
                String counts = "";
                if (ex.getRemoteAddress().getAddress().isLoopbackAddress()) {
                    EngineBatcher.Totals totals = batcher.totals();
                    counts = ",\"engine_batches\":" + totals.batches() + ",\"engine_requests\":" + totals.requests();
                }
                respond(ex, 200, "{\"status\":\"alive\",\"stream_thread_replacements\":" + threadReplacements.get()
                        + counts + "}");
            }
        });
        metrics.serveOn(health);
        health.createContext(READY_PATH, ex -> {
            if (isReady()) {
                respond(ex, 200, "{\"status\":\"ready\"}");
            } else {
                respond(ex, 503, "{\"status\":\"not_ready\",\"keys\":" + keys.hasValidLease()
                        + ",\"streams\":\"" + streams.state() + "\"}");
            }
        });
        health.start();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange ex, int status, String json) throws IOException {
        try (ex) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(status, body.length);
            ex.getResponseBody().write(body);
        }
    }

    /** Stops consuming (committing what is done), stops key refresh, unloads the engines. */
    @Override
    public void close() {
        shutdown();
    }

    /**
     * As {@link #close()}, and says whether the shutdown was complete: the stream processor
     * closed within its timeout (so what was answered is committed and the rest is left to other
     * workers) and no batch was left inside the engine.
     */
    public boolean shutdown() {
        synchronized (this) {
            closed = true;
        }
        keys.close();
        engineWatch.shutdownNow();
        boolean streamsClosed = closeLeavingGroup(SHUTDOWN_TIMEOUT); // a scale-down hands its partitions over now
        boolean engineIdle = batcher.closeAndJoin(ENGINE_SHUTDOWN_WAIT);
        chunks.close();
        topics.close();
        health.stop(0);
        metrics.close();
        if (engineIdle) {
            for (InferenceEngine e : engines) {
                try {
                    e.close();
                } catch (Exception ex) {
                    LOG.warn("worker.engine.close_failed error={}", ex.getClass().getSimpleName());
                }
            }
        } else {
            // a batch is still inside the engine: freeing its native memory under it could crash
            // the process; the engines go with the process instead
            LOG.warn("worker.engine.not_closed worker_id={} reason=batch_running", config.workerId());
        }
        LOG.info("worker.stopped worker_id={} streams_closed={} engine_idle={}", config.workerId(), streamsClosed, engineIdle);
        return streamsClosed && engineIdle;
    }
}
