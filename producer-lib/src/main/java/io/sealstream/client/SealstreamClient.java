package io.sealstream.client;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.ClientSession;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.envelope.EnvelopeDefaults;
import io.sealstream.envelope.EnvelopeException;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.tenancy.KafkaSecurity;
import io.sealstream.envelope.OpenedResponse;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.envelope.SealedRequest;
import io.sealstream.envelope.SealedRequestSerializer;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.ResponseStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Sealstream client. Before its first request it verifies the key broker (evidence, nonce
 * binding, pinned measurement and policy) and fails closed; then it seals every request in a
 * session whose DEK only attested workers can unwrap, produces it, and completes the request's
 * future when the sealed answer arrives on {@code sealstream.responses.<client_id>}. Duplicate
 * answers are dropped; an answer that fails authentication is ignored and the request keeps
 * waiting for a genuine one until its timeout.
 *
 * <pre>{@code
 * try (SealstreamClient client = SealstreamClient.builder()
 *         .bootstrapServers("127.0.0.1:9092").schemaRegistryUrl(registry).keyBrokerUrl(broker)
 *         .clientId("acme").trust(BrokerTrust.pinned(verifier, measurement, policyId)).build()) {
 *     EmbeddingResult r = client.embeddings().createBlocking("all-minilm-l6-v2-q", List.of("hello"));
 *     ChatCompletion c = client.chat().completions().createBlocking(
 *             ChatCompletionRequest.builder("stories260K").user("Once upon a time").maxTokens(40).build());
 * }
 * }</pre>
 */
public final class SealstreamClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SealstreamClient.class);
    /** Default time a request waits for its answer. */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final String clientId;
    /**
     * The base family, whose keyset the key broker serves: {@code sealstream.requests}. A policy
     * with worker pools puts each pool's models on its own family ({@link EnvelopeProtocol#poolFamily}).
     */
    private final String requestTopicFamily;
    private final Duration sessionLifetime;
    private final Duration requestTimeout;
    private final Clock clock;
    private final BrokerVerifier brokerVerifier;
    private final KafkaProducer<String, SealedRequest> producer;
    private final ResponseListener<EncryptedResponse> listener;
    /** Reads the stream topic; started by the first streamed request, null until then. */
    private ResponseListener<io.sealstream.schemas.v1.EncryptedChunk> chunkListener;
    /** Until when the stream topic is not tried again after it could not be read (a client provisioned before streaming, say). */
    private volatile long chunksUnreadableUntil;
    /** Guards starting the chunk listener; not the client's monitor, which sealing takes. */
    private final Object chunkLock = new Object();
    /** Hands streamed text to the caller's callbacks, in order, off the threads that read Kafka. */
    private final java.util.concurrent.ExecutorService streamCallbacks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sealstream-client-streams");
        t.setDaemon(true);
        return t;
    });
    /** How long streaming stays off after the stream topic could not be read. */
    private static final Duration CHUNKS_RETRY = Duration.ofMinutes(1);
    /** Streamed requests awaiting their answer, by request id. */
    private final Map<String, ChunkStream> streams = new ConcurrentHashMap<>();
    private final String bootstrapServers;
    private final Map<String, Object> kafkaSettings;
    private final SchemaRegistryClient registry;
    private final Duration brokerTimeout;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Map<String, ClientSession> sessions = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sealstream-client-timeouts");
        t.setDaemon(true);
        return t;
    });
    private final Embeddings embeddings = new Embeddings(this);
    private final Chat chat = new Chat(this);
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong forgeries = new AtomicLong();
    /** The longest an answer waits for the log's verdict on its lease. */
    private static final Duration PROVENANCE_WAIT = Duration.ofSeconds(10);
    /** Answers whose lease the transparency log did not prove (flagged in their provenance). */
    private final AtomicLong unprovenAnswers = new AtomicLong();
    /** Proves leases of new answers in the log, so the response listener never waits on the key broker. */
    private final java.util.concurrent.ExecutorService provenanceChecks = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sealstream-client-provenance");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong sessionsOpened = new AtomicLong();
    private final ClientMeters meters;
    /** What the client verified first: where it learnt the policy and its pools. */
    private volatile VerifiedTopic policySource;
    /** Per request topic family: its verified keys and the session that seals to them. */
    private final Map<String, Route> routes = new ConcurrentHashMap<>();

    private record Route(String requestTopic, VerifiedTopic verified, ClientSession session) {
    }

    private SealstreamClient(Builder b) {
        this.clientId = b.clientId;
        this.meters = new ClientMeters(b.meters);
        meters.dropped(duplicates, forgeries);
        this.requestTopicFamily = b.requestTopicFamily;
        this.sessionLifetime = b.sessionLifetime;
        this.requestTimeout = b.requestTimeout;
        this.clock = b.clock;
        this.brokerVerifier = new BrokerVerifier(new KeyBrokerClient(b.keyBrokerUrl, b.brokerTimeout), b.trust, clock);
        SchemaRegistryClient registry = new SchemaRegistryClient(b.schemaRegistryUrl, b.brokerTimeout);
        this.registry = registry;
        this.bootstrapServers = b.bootstrapServers;
        this.brokerTimeout = b.brokerTimeout;
        Map<String, Object> producerConfig = new HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, b.bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.CLIENT_ID_CONFIG, "sealstream-client-" + clientId));
        Map<String, Object> kafkaSettings = new HashMap<>();
        if (b.kafkaSecurity != null) {
            kafkaSettings.putAll(b.kafkaSecurity.clientConfig());
        }
        if (b.kafkaSecurity == null || b.kafkaSecurity.protocol() == KafkaSecurity.Protocol.PLAINTEXT) {
            LOG.warn("client.kafka.plaintext client_id={} remedy=\"set kafkaSecurity(KafkaSecurity.scram(...)) or build "
                    + "from a connection file; a secured cluster refuses PLAINTEXT\"", clientId);
        }
        kafkaSettings.putAll(b.kafkaOverrides);
        this.kafkaSettings = Map.copyOf(kafkaSettings);
        producerConfig.putAll(kafkaSettings);
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
                new SealedRequestSerializer(registry, b.autoRegisterSchemas));
        this.listener = new ResponseListener<>(b.bootstrapServers, EnvelopeProtocol.responseTopicFor(clientId),
                new ConfluentAvroDeserializer<>(EncryptedResponse.class, registry), kafkaSettings, this::onResponse,
                this::onListenerStopped);
        try {
            listener.start(b.brokerTimeout.multipliedBy(3));
            timer.scheduleAtFixedRate(this::expire, 100, 100, TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The embeddings API ({@code /v1/embeddings}). */
    public Embeddings embeddings() {
        return embeddings;
    }

    /** The chat API ({@code /v1/chat/completions}): {@code client.chat().completions().create(...)}. */
    public Chat chat() {
        return chat;
    }

    /**
     * Verifies the key broker now instead of at the first request, and returns what was verified,
     * including the policy with the model digests workers may serve.
     */
    public VerifiedTopic verifyKeyBroker() {
        VerifiedTopic first = policySource();
        // the family it came from, verified again if its session is due for renewal
        return route(first.keys().topic()).verified();
    }

    /**
     * The low-level call beneath {@link #embeddings()} and {@link #chat()}: seals and sends an
     * {@link InferenceRequest} under {@code requestId} and completes with the worker's answer, or
     * with a {@link SealstreamException} (a worker's error answer is a {@link RequestRejectedException}).
     * Sending the same id again while it is pending is a safe retry: one answer completes it.
     */
    public CompletableFuture<InferenceResponse> send(String requestId, InferenceRequest request, Duration timeout) {
        return submit(requestId, request, timeout).thenApply(Answer::body);
    }

    /**
     * As {@link #send}, completing with the answer and its provenance: which attested worker
     * answered, and whether the key broker's transparency log proves its lease.
     */
    public CompletableFuture<Answer> answer(String requestId, InferenceRequest request, Duration timeout) {
        return submit(requestId, request, timeout);
    }

    /**
     * As {@link #answer}, for a chat completion whose text {@code onText} receives as the worker
     * generates it, in order, each piece once (docs/streaming.md); the concatenation of the pieces
     * is the answer's content when the future completes. The answer decides: if a worker died
     * mid-generation and the pieces are not the start of the answer, the future fails with
     * {@link StreamDivergedException}, which holds the answer. Where this client's stream topic
     * cannot be read, the request is sent without streaming and {@code onText} receives the whole
     * content when the answer arrives.
     *
     * @throws IllegalArgumentException if {@code request} is not a chat completion
     */
    public CompletableFuture<Answer> answerStreaming(String requestId, InferenceRequest request, Duration timeout,
                                                     java.util.function.Consumer<String> onText) {
        if (!(request.getTask() instanceof io.sealstream.schemas.v1.ChatInput)) {
            throw new IllegalArgumentException("only chat completions stream; send embeddings with answer()");
        }
        Objects.requireNonNull(onText, "onText");
        boolean readable = chunksReadable();
        InferenceRequest sent = request;
        if (readable) {
            io.sealstream.schemas.v1.ChatInput chat = (io.sealstream.schemas.v1.ChatInput) request.getTask();
            sent = InferenceRequest.newBuilder(request).setTask(io.sealstream.schemas.v1.ChatInput.newBuilder(chat)
                    .setParameters(io.sealstream.schemas.v1.ChatParameters.newBuilder(chat.getParameters())
                            .setStream(true).build()).build()).build();
        }
        ChunkStream stream = new ChunkStream(requestId, onText);
        if (readable) {
            streams.put(requestId, stream);
        }
        CompletableFuture<Answer> answer;
        try {
            answer = submit(requestId, sent, timeout);
        } catch (RuntimeException e) {
            streams.remove(requestId, stream);
            throw e;
        }
        // on the callbacks' thread, after every piece handed on before: the future completes last
        return answer.handleAsync((a, failure) -> {
            streams.remove(requestId, stream);
            if (failure != null) {
                stream.abandon();
                throw failure instanceof java.util.concurrent.CompletionException c ? c
                        : new java.util.concurrent.CompletionException(failure);
            }
            if (a.body().getOutput() instanceof io.sealstream.schemas.v1.ChatResult c && !stream.finish(c.getContent())) {
                throw new java.util.concurrent.CompletionException(new StreamDivergedException(requestId, a));
            }
            return a;
        }, this::onStreamCallbacks);
    }

    /** Runs {@code task} on the callbacks' thread, or here once the client is closed, so nothing is left undone. */
    private void onStreamCallbacks(Runnable task) {
        try {
            streamCallbacks.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            task.run();
        }
    }

    /**
     * Whether chunks can be read; starts the stream topic's listener on first use (waiting at most
     * three broker timeouts), and tries again a minute after it could not.
     */
    private boolean chunksReadable() {
        synchronized (chunkLock) {
            return startChunkListener();
        }
    }

    private boolean startChunkListener() {
        if (chunkListener != null) {
            return true;
        }
        if (System.currentTimeMillis() < chunksUnreadableUntil) {
            return false;
        }
        ResponseListener<io.sealstream.schemas.v1.EncryptedChunk> l = new ResponseListener<>(bootstrapServers,
                EnvelopeProtocol.streamTopicFor(clientId), new ConfluentAvroDeserializer<>(
                        io.sealstream.schemas.v1.EncryptedChunk.class, registry), kafkaSettings, this::onChunk,
                why -> {
                    synchronized (chunkLock) {
                        chunkListener = null; // started again, a minute on, by the next streamed request
                        chunksUnreadableUntil = System.currentTimeMillis() + CHUNKS_RETRY.toMillis();
                    }
                    LOG.warn("client.streams.stopped client_id={} error={}", clientId, why.getClass().getSimpleName());
                });
        try {
            l.start(brokerTimeout.multipliedBy(3));
        } catch (RuntimeException e) {
            chunksUnreadableUntil = System.currentTimeMillis() + CHUNKS_RETRY.toMillis();
            l.close();
            LOG.info("client.streams.unavailable client_id={} topic={} error={} effect=\"streamed requests arrive "
                    + "whole\"", clientId, EnvelopeProtocol.streamTopicFor(clientId), e.getClass().getSimpleName());
            return false;
        }
        chunkListener = l;
        return true;
    }

    /** A chunk from the stream topic: opened under its request's session, handed to its stream; anything else is dropped. */
    private void onChunk(io.sealstream.schemas.v1.EncryptedChunk chunk) {
        String id = chunk.getRequestId();
        ChunkStream stream = streams.get(id);
        Pending p = pending.get(id);
        if (stream == null || p == null) {
            return; // answered already, or not ours to follow
        }
        io.sealstream.envelope.OpenedChunk opened;
        try {
            opened = p.session().openChunk(chunk);
        } catch (EnvelopeException | RuntimeException e) {
            forgeries.incrementAndGet();
            LOG.warn("client.chunk.rejected request_id={} error={}", id, e.getClass().getSimpleName());
            return;
        }
        onStreamCallbacks(() -> stream.chunk(opened));
    }

    /** Seals and sends {@code request}; the future completes with the opened answer or a {@link SealstreamException}. */
    CompletableFuture<Answer> submit(String requestId, InferenceRequest request) {
        return submit(requestId, request, requestTimeout);
    }

    /** As {@link #submit(String, InferenceRequest)} with this request's own timeout. */
    CompletableFuture<Answer> submit(String requestId, InferenceRequest request, Duration timeout) {
        Objects.requireNonNull(requestId, "requestId");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a request timeout must be positive, got " + timeout);
        }
        RuntimeException stopped = listener.failure();
        if (stopped != null) {
            throw stopped;
        }
        AttestationFailedException logRefused = brokerVerifier.logFailure();
        if (logRefused != null) {
            throw logRefused; // the key broker's log lied once: send nothing more through it
        }
        Route route = route(familyFor(request.getModel()));
        ClientSession session = route.session();
        CompletableFuture<Answer> future = new CompletableFuture<>();
        Pending p = new Pending(session, future, clock.instant().plus(timeout), timeout, System.nanoTime());
        Pending earlier = pending.putIfAbsent(requestId, p);
        if (earlier != null) {
            // a retry of a request still in flight: same id, same future, the first answer wins
            pending.put(requestId, new Pending(session, earlier.future(), p.deadline(), timeout, earlier.sentNanos()));
            future = earlier.future();
        }
        CompletableFuture<Answer> result = future;
        RuntimeException stoppedSince = listener.failure();
        if (stoppedSince != null) {
            // the listener died between the first check and the registration: fail now, not at the timeout
            pending.remove(requestId, pending.get(requestId));
            result.completeExceptionally(stoppedSince);
            return result;
        }
        try {
            long sealStarted = System.nanoTime();
            SealedRequest sealed = session.seal(requestId, request);
            meters.sealed(System.nanoTime() - sealStarted);
            producer.send(new ProducerRecord<>(route.requestTopic(), requestId, sealed), (meta, error) -> {
                if (error != null) {
                    pending.remove(requestId);
                    meters.ended(ClientMeters.Outcome.FAILED, p.sentNanos());
                    result.completeExceptionally(new DeliveryFailedException(requestId, error));
                }
            });
        } catch (RuntimeException e) {
            // nothing was sent: forget the request rather than let it time out later
            if (earlier == null) {
                pending.remove(requestId, p);
            }
            throw e;
        }
        sent.incrementAndGet();
        return future;
    }

    /**
     * The family whose workers serve {@code model}: the base family when the pinned policy names no
     * pools, else its pool's family.
     *
     * @throws ModelNotServedException if the policy names pools and none serves {@code model}:
     *     refused before anything is sealed or sent
     */
    private String familyFor(String model) {
        AttestationPolicy policy = policySource().policy();
        if (policy.pools().isEmpty()) {
            return requestTopicFamily;
        }
        String pool = policy.poolServing(model).orElseThrow(() -> new ModelNotServedException("no worker pool serves model '"
                + (model == null ? "" : model.length() > 64 ? model.substring(0, 64) + "..." : model)
                + "'; the pinned policy's pools serve " + policy.pools() + ": use one of those models"));
        return EnvelopeProtocol.poolFamily(requestTopicFamily, pool);
    }

    /**
     * The first verified family: the base family, or, where the key broker holds no keyset for it
     * (a deployment of named pools only), the first pool family it lists. Every family's evidence
     * must show the same pinned policy, so which one teaches the pools does not matter.
     */
    private VerifiedTopic policySource() {
        VerifiedTopic v = policySource;
        if (v == null) {
            String family = requestTopicFamily;
            try {
                route(family);
            } catch (KeyUnavailableException e) {
                if (!(e.getCause() instanceof KeyBrokerException k) || k.status() != 404) {
                    throw e;
                }
                route(poolFamilyListedByBroker().orElseThrow(() -> e));
            }
            v = policySource;
        }
        return v;
    }

    private java.util.Optional<String> poolFamilyListedByBroker() {
        try {
            List<String> listed = brokerVerifier.topics();
            return listed == null ? java.util.Optional.empty() : listed.stream()
                    .filter(t -> t != null && t.startsWith(requestTopicFamily + "-")).sorted().findFirst();
        } catch (KeyBrokerException e) {
            return java.util.Optional.empty();
        }
    }

    private synchronized Route route(String family) {
        Route r = routes.get(family);
        if (r == null || r.session().needsRenewal()) {
            VerifiedTopic verified = brokerVerifier.verify(family);
            // renew when the primary key rotates, or a minute later if the broker is late rotating it
            Instant rotation = verified.primaryRotatesAt().map(t -> t.isAfter(clock.instant()) ? t
                    : clock.instant().plus(Duration.ofMinutes(1))).orElse(null);
            String requestTopic = EnvelopeProtocol.requestTopicFor(family, clientId);
            ClientSession s = ClientSession.builder(verified.keys()).clientId(clientId).requestTopic(requestTopic)
                    .lifetime(sessionLifetime).notAfter(rotation).clock(clock).build();
            sessions.put(s.sessionId(), s);
            r = new Route(requestTopic, verified, s);
            routes.put(family, r);
            if (policySource == null) {
                policySource = verified;
            }
            sessionsOpened.incrementAndGet();
            LOG.info("client.session.opened client_id={} topic={} session_id={} key_id={} expires_at={}", clientId,
                    requestTopic, s.sessionId(), s.keyId(), s.expiresAt());
            forgetOldSessions();
        }
        return r;
    }

    private Answer answerWith(OpenedResponse opened, io.sealstream.schemas.v1.Provenance bound, boolean inLog) {
        if (!inLog) {
            unprovenAnswers.incrementAndGet();
            LOG.warn("client.response.provenance_unproven request_id={} lease_log_index={}", opened.requestId(),
                    bound.getLeaseLogIndex());
        }
        return new Answer(opened.requestId(), opened.body(), Optional.of(AnswerProvenance.of(bound, inLog)));
    }

    private void onResponse(EncryptedResponse response) {
        String id = response.getRequestId();
        // looked up, not removed: a forged answer must not take the entry away from the genuine one
        Pending p = pending.get(id);
        if (p == null) {
            duplicates.incrementAndGet();
            LOG.debug("client.response.dropped request_id={} reason=not_pending",
                    EnvelopeProtocol.isLegalRequestId(id) ? id : "(not a request id)");
            return;
        }
        OpenedResponse opened;
        long openStarted = System.nanoTime();
        try {
            opened = p.session().open(response);
            meters.opened(System.nanoTime() - openStarted);
        } catch (RuntimeException e) {
            // a record that fails in an unforeseen way is not a genuine answer either
            forgeries.incrementAndGet();
            LOG.warn("client.response.rejected request_id={} error={}", id, e.getClass().getSimpleName());
            return;
        } catch (EnvelopeException e) {
            if (e.reason() == ErrorCode.UNDECODABLE) {
                // genuine (it authenticated) but unreadable: waiting longer will not help
                pending.computeIfPresent(id, (k, v) -> v.future() == p.future() ? null : v);
                rejected.incrementAndGet();
                meters.ended(ClientMeters.Outcome.REJECTED, p.sentNanos());
                p.future().completeExceptionally(new RequestRejectedException(id, "undecodable_response", e.getMessage()));
                return;
            }
            // not a genuine answer for our session: keep waiting for the real one
            forgeries.incrementAndGet();
            LOG.warn("client.response.rejected request_id={} reason={}", id, e.reason().code());
            return;
        }
        // genuine: this entry, or a retry's that replaced it and shares its future, is done
        pending.computeIfPresent(id, (k, v) -> v.future() == p.future() ? null : v);
        if (opened.status() == ResponseStatus.ERROR) {
            rejected.incrementAndGet();
            meters.ended(ClientMeters.Outcome.REJECTED, p.sentNanos());
            p.future().completeExceptionally(new RequestRejectedException(id, opened.body().getError().getCode(),
                    opened.body().getError().getMessage()));
        } else {
            answered.incrementAndGet();
            meters.ended(ClientMeters.Outcome.ANSWERED, p.sentNanos());
            io.sealstream.schemas.v1.Provenance bound = opened.provenance();
            if (bound == null) {
                p.future().complete(new Answer(id, opened.body(), Optional.empty()));
                return;
            }
            // a lease proven before answers at once; the first answers under a new one wait for one proof,
            // run off the thread that reads every response
            CompletableFuture<Boolean> inLog;
            try {
                // bounded: an answer never waits longer than one key-broker call for its verdict
                inLog = brokerVerifier.leaseInLog(bound, response.getCreatedAt(), provenanceChecks).completeOnTimeout(false,
                        PROVENANCE_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                inLog = CompletableFuture.completedFuture(false);
            }
            inLog.thenAccept(proven -> p.future().complete(answerWith(opened, bound, proven)));
        }
    }

    /** The listener died: no answer can arrive, so every pending request fails now, not at its timeout. */
    private void onListenerStopped(RuntimeException why) {
        pending.forEach((id, p) -> {
            if (pending.remove(id, p)) {
                meters.ended(ClientMeters.Outcome.FAILED, p.sentNanos());
                p.future().completeExceptionally(why);
            }
        });
    }

    private void expire() {
        Instant now = clock.instant();
        pending.forEach((id, p) -> {
            if (now.isAfter(p.deadline()) && pending.remove(id, p)) {
                timedOut.incrementAndGet();
                meters.ended(ClientMeters.Outcome.TIMEOUT, p.sentNanos());
                p.future().completeExceptionally(new RequestTimeoutException(id, p.timeout()));
            }
        });
    }

    private void forgetOldSessions() {
        Instant cutoff = clock.instant().minus(requestTimeout);
        sessions.values().removeIf(s -> routes.values().stream().noneMatch(r -> r.session() == s)
                && s.expiresAt().isBefore(cutoff)
                && pending.values().stream().noneMatch(p -> p.session() == s));
    }

    public String clientId() {
        return clientId;
    }

    /** Counters since the client was built. */
    public ClientStats stats() {
        return new ClientStats(sent.get(), answered.get(), rejected.get(), timedOut.get(), duplicates.get(),
                forgeries.get(), sessionsOpened.get(), unprovenAnswers.get());
    }

    /** Stops listening and fails every pending request; zeroes every session key. */
    @Override
    public void close() {
        timer.shutdownNow();
        listener.close();
        synchronized (chunkLock) {
            if (chunkListener != null) {
                chunkListener.close();
            }
        }
        streamCallbacks.shutdown(); // pieces already handed over are still delivered
        provenanceChecks.shutdown(); // checks under way complete their answers

        producer.close(Duration.ofSeconds(10));
        pending.forEach((id, p) -> p.future().completeExceptionally(
                new RequestTimeoutException(id, Duration.ZERO)));
        pending.clear();
        sessions.values().forEach(ClientSession::close);
    }

    /**
     * The models attested workers serve now, by model name, each with the SHA-256 (hex) of the
     * model files: from the lease entries of the key broker's transparency log (audited whole)
     * that were granted under the pinned policy and have not expired. Names are as the workers
     * declared them (the evidence binds the digests, not the names); a worker older than named
     * models contributes none. Reads the whole log: call it now and then, not per request.
     *
     * @throws AttestationFailedException when the log fails the audit (the client then sends nothing more)
     * @throws KeyUnavailableException when the log cannot be read
     */
    public Map<String, java.util.Set<String>> servedModels() {
        String policyId = verifyKeyBroker().policy().id();
        Instant now = clock.instant();
        Map<String, java.util.Set<String>> served = new java.util.TreeMap<>();
        for (io.sealstream.transparency.LogEntry e : brokerVerifier.auditedLog()) {
            Map<String, String> f = e.fields();
            if (e.type() != io.sealstream.transparency.LogEntry.Type.LEASE || !policyId.equals(f.get("policy_id"))
                    || f.get("served_models") == null) {
                continue;
            }
            try {
                if (!Instant.parse(f.get("expires_at")).isAfter(now)) {
                    continue;
                }
            } catch (RuntimeException malformed) {
                continue;
            }
            for (String pair : f.get("served_models").split("/")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    served.computeIfAbsent(pair.substring(0, eq), k -> new java.util.TreeSet<>()).add(pair.substring(eq + 1));
                }
            }
        }
        return served;
    }

    /** The time a request waits for its answer unless the call gives its own. */
    Duration requestTimeout() {
        return requestTimeout;
    }

    /** Generates a request id the way the client does when none is given. */
    public static String newRequestId() {
        return UUID.randomUUID().toString();
    }

    /** A request awaiting its answer; {@code sentNanos} ({@link System#nanoTime}) starts its end-to-end time. */
    private record Pending(ClientSession session, CompletableFuture<Answer> future, Instant deadline,
                           Duration timeout, long sentNanos) {
    }

    /** Settings of a {@link SealstreamClient}. */
    public static final class Builder {
        private String bootstrapServers;
        private String schemaRegistryUrl;
        private String keyBrokerUrl;
        private String clientId;
        private String requestTopicFamily = EnvelopeProtocol.REQUEST_TOPIC_FAMILY;
        private BrokerTrust trust;
        private Duration sessionLifetime = EnvelopeDefaults.SESSION_LIFETIME;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private Duration brokerTimeout = Duration.ofSeconds(10);
        private boolean autoRegisterSchemas = true;
        private Clock clock = Clock.systemUTC();
        private final Map<String, Object> kafkaOverrides = new HashMap<>();
        private KafkaSecurity kafkaSecurity;

        private Builder() {
        }

        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        public Builder schemaRegistryUrl(String schemaRegistryUrl) {
            this.schemaRegistryUrl = schemaRegistryUrl;
            return this;
        }

        public Builder keyBrokerUrl(String keyBrokerUrl) {
            this.keyBrokerUrl = keyBrokerUrl;
            return this;
        }

        /** Required: the tenant id; answers come on {@code sealstream.responses.<client_id>}. */
        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /**
         * The request topic family (default {@code sealstream.requests}): the client sends to its own
         * topic {@code <family>.<client_id>}, sealed with the family's public keyset.
         */
        public Builder requestTopicFamily(String requestTopicFamily) {
            this.requestTopicFamily = requestTopicFamily;
            return this;
        }

        /** Required: the key broker measurement and policy this client accepts. */
        public Builder trust(BrokerTrust trust) {
            this.trust = trust;
            return this;
        }

        /** How long one session DEK seals requests; default 45 min. */
        public Builder sessionLifetime(Duration sessionLifetime) {
            this.sessionLifetime = sessionLifetime;
            return this;
        }

        /** How long a request waits for its answer; default 60 s. */
        public Builder requestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        /** Timeout of calls to the key broker and the schema registry; default 10 s. */
        public Builder brokerTimeout(Duration brokerTimeout) {
            this.brokerTimeout = brokerTimeout;
            return this;
        }

        /** Whether the client registers the envelope schema (default true); false for read-only registries. */
        public Builder autoRegisterSchemas(boolean autoRegisterSchemas) {
            this.autoRegisterSchemas = autoRegisterSchemas;
            return this;
        }

        /**
         * How the client logs in to Kafka: SASL_SSL as its own principal, whose user name must be
         * the client id. Without it the client connects PLAINTEXT, which a secured cluster refuses.
         */
        public Builder kafkaSecurity(KafkaSecurity kafkaSecurity) {
            this.kafkaSecurity = Objects.requireNonNull(kafkaSecurity, "kafkaSecurity");
            return this;
        }

        /** Any Kafka producer or consumer setting, applied after {@link #kafkaSecurity}. */
        private io.sealstream.metrics.Meters meters = io.sealstream.metrics.Meters.none();

        public Builder kafkaConfig(String key, Object value) {
            kafkaOverrides.put(key, value);
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * Records the client's meters (end-to-end time by outcome, seal and open time, dropped
         * responses; docs/observability.md) in {@code registry}; by default the client records
         * none. No meter carries a request id, a client id or request data.
         */
        public Builder meterRegistry(io.micrometer.core.instrument.MeterRegistry registry) {
            this.meters = io.sealstream.metrics.Meters.of(registry);
            return this;
        }

        public SealstreamClient build() {
            require(bootstrapServers, "bootstrap servers");
            require(schemaRegistryUrl, "a schema registry URL");
            require(keyBrokerUrl, "a key broker URL");
            require(clientId, "a client id");
            if (!EnvelopeProtocol.isLegalClientId(clientId)) {
                throw new IllegalArgumentException("a client id has 1 to " + EnvelopeProtocol.MAX_CLIENT_ID_LENGTH
                        + " letters, digits, '_' or '-' (it names the client's topics)");
            }
            if (kafkaSecurity != null && !kafkaSecurity.username().isEmpty() && !kafkaSecurity.username().equals(clientId)) {
                throw new IllegalArgumentException("the Kafka credentials are those of '" + kafkaSecurity.username()
                        + "', but the client id is '" + clientId + "'; a client sends and reads only as itself");
            }
            Objects.requireNonNull(trust, "the client needs a BrokerTrust: which key broker measurement and policy to accept");
            if (requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new IllegalArgumentException("request timeout must be positive, got " + requestTimeout);
            }
            return new SealstreamClient(this);
        }

        private static void require(String value, String what) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException("the client needs " + what);
            }
        }
    }
}
