package io.sealstream.streams;

import io.sealstream.envelope.EnvelopeException;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.envelope.OpenedRequest;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.ResponseSealer;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.RequestLimits;
import io.sealstream.schemas.registry.SchemaRegistryException;
import io.sealstream.schemas.serde.ConfluentAvroDeserializer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers request ciphertext in a changelogged store, opens each request as it arrives and hands
 * it to the worker's {@link EngineBatcher}, and when its result comes back seals the answer and
 * forwards it. Buffer writes, deletes, the answered-requests store, outputs and input offsets
 * commit in one Kafka transaction (exactly_once_v2), so a crash at any point neither loses a
 * request nor answers one twice: a request leaves the buffer only in the transaction that carries
 * its answer, and a task's new owner submits what its buffer still holds.
 *
 * <p>Every buffered record ends in exactly one way (ARCHITECTURE.md §8): an answer, an encrypted
 * error to its client, or one bounded dead letter. Nothing a record carries can make this class
 * throw: the checks that can fail because of a record (decoding, client, size, cost, replay) run
 * before anything is sent, and what fails because of the cluster or the registry (both
 * unreachable) keeps the record buffered and tries again later, slowing intake meanwhile.
 */
final class BatchingProcessor implements Processor<String, byte[], String, Outgoing> {
    private static final Logger LOG = LoggerFactory.getLogger(BatchingProcessor.class);
    /** How long intake pauses per record while records wait for the registry or the cluster. */
    static final Duration BACK_PRESSURE_PAUSE = Duration.ofMillis(200);
    /** How often old entries leave the answered-requests store. */
    static final Duration PURGE_INTERVAL = Duration.ofMinutes(1);
    /**
     * How often the stream thread takes the results the batcher finished: the most a finished
     * answer waits before it is sealed and sent (it reaches its client at the next commit). It
     * ticks only while requests are at the batcher or waiting, and skips the time in which the
     * engine's running batch cannot have ended: every punctuation makes Kafka Streams commit, and
     * a worker that only waits for its engine should not write a transaction every commit
     * interval (a chat batch of a few seconds wrote about a hundred).
     */
    static final Duration ANSWER_INTERVAL = Duration.ofMillis(5);
    /**
     * The longest gap between answer ticks while the engine runs a batch. A batch's cost bounds
     * its work but may overstate it (a completion that stops long before its token limit), so
     * the expected end can be far too late; this bounds how long a result that came early waits.
     */
    static final Duration LONGEST_ENGINE_WAIT_TICK = Duration.ofMillis(200);

    private final RequestOpener opener;
    private final EngineBatcher batcher;
    private final ConfluentAvroDeserializer<EncryptedRequest> deserializer;
    private final Serializer<EncryptedResponse> serializer;
    private final TopicDirectory topics;
    private final StreamProcessorConfig config;
    private final KeyRefresh keys;
    /** When each record naming a key id this worker lacks was first seen: it waits for one refresh. */
    private final java.util.Map<String, Long> keyWaitSince = new java.util.HashMap<>();
    /** Key ids still unknown after a refresh: made up, so their records need not wait again. */
    private final java.util.Map<String, Boolean> unknownAfterRefresh = new java.util.LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, Boolean> eldest) {
            return size() > 10_000;
        }
    };
    /** The longest a record waits for a refresh that does not complete (a broker that does not answer). */
    static final Duration KEY_REFRESH_WAIT = Duration.ofSeconds(30);
    private ProcessorContext<String, Outgoing> context;
    private KeyValueStore<String, byte[]> buffer;
    private KeyValueStore<String, Long> answered;
    private EngineBatcher.Lane<Admitted> lane;
    /** The answer punctuation while it runs; null while the task is idle. */
    private org.apache.kafka.streams.processor.Cancellable answerTicks;
    /** The interval {@link #answerTicks} runs at, and when it fires next (wall clock, ms). */
    private Duration answerTickInterval;
    private long answerTickAt;
    /** Buffered records at the batcher, by buffer key. */
    private final java.util.Map<String, Admitted> inFlight = new java.util.HashMap<>();
    /** Replay keys of the records at the batcher: a copy arriving meanwhile is a replay too. */
    private final Set<String> inFlightReplayKeys = new HashSet<>();
    /** Buffered records that wait (registry, cluster, keys, or restored from the changelog), in arrival order. */
    private final java.util.Set<String> waitingKeys = new java.util.LinkedHashSet<>();
    /** The next buffer key's sequence number; restored past the largest buffered one. */
    private long nextSequence;
    private long lastRetry;
    /** When each waiting record first waited (in memory: a restart starts the clock again). */
    private final java.util.Map<String, Long> waitingSince = new java.util.HashMap<>();
    /** Response topics whose subject is known to take the response schema. */
    private final Set<String> readyResponseTopics = new HashSet<>();
    /** Response topics whose subject failed or refused a moment ago, and when to ask again. */
    private final java.util.Map<String, SchemaFailure> schemaFailures = new java.util.HashMap<>();
    /** How long a response subject's failure is remembered. */
    static final Duration SCHEMA_RETRY = Duration.ofSeconds(30);
    /** A response with no content, serialized only to resolve a topic's schema id. */
    private static final EncryptedResponse SCHEMA_PROBE = EncryptedResponse.newBuilder().setVersion(1).setRequestId("probe")
            .setClientId("probe").setSessionId("probe").setStatus(io.sealstream.schemas.v1.ResponseStatus.OK)
            .setCreatedAt(Instant.EPOCH).setNonce(java.nio.ByteBuffer.allocate(0))
            .setCiphertext(java.nio.ByteBuffer.allocate(0)).build();
    /**
     * The registry's failure in the current retry round: records whose schema it would have to be
     * asked about wait without asking again, so an outage costs one registry timeout per round,
     * not one per record. Cleared when the next round starts.
     */
    private SchemaRegistryException registryFailure;
    private final Counts counts = new Counts();
    private final StreamMeters meters;

    /** Sends the chunks of streamed answers; null: streamed requests are answered whole. */
    private final ChunkPublisher chunks;

    BatchingProcessor(RequestOpener opener, EngineBatcher batcher, ConfluentAvroDeserializer<EncryptedRequest> deserializer,
                      Serializer<EncryptedResponse> serializer, TopicDirectory topics, StreamProcessorConfig config,
                      KeyRefresh keys, ChunkPublisher chunks) {
        this.chunks = chunks;
        this.keys = keys;
        this.opener = opener;
        this.batcher = batcher;
        this.deserializer = deserializer;
        this.serializer = serializer;
        this.topics = topics;
        this.config = config;
        this.meters = batcher.meters();
    }

    @Override
    public void init(ProcessorContext<String, Outgoing> context) {
        this.context = context;
        this.buffer = context.getStateStore(InferenceTopology.BUFFER_STORE);
        this.answered = context.getStateStore(InferenceTopology.ANSWERED_STORE);
        this.lane = batcher.lane(context.taskId().toString());
        try (KeyValueIterator<String, byte[]> it = buffer.all()) {
            while (it.hasNext()) {
                String key = it.next().key;
                nextSequence = Math.max(nextSequence, sequenceOf(key) + 1);
                waitingKeys.add(key); // restored after a crash or a rebalance: admitted at the next tick
            }
        }
        if (!waitingKeys.isEmpty()) {
            LOG.info("batch.restored task={} buffered={}", context.taskId(), waitingKeys.size());
        }
        tickWhileBusy(false);
        context.schedule(PURGE_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::purgeAnswered);
    }

    @Override
    public void close() {
        // the task closes or moves: what is at the batcher stays buffered for the task's next owner
        if (lane != null) {
            lane.close();
        }
        if (answerTicks != null) {
            answerTicks.cancel();
            answerTicks = null;
        }
        inFlight.clear();
        inFlightReplayKeys.clear();
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        long size = 4L + (record.key() == null ? 0 : record.key().length() * 3L)
                + (record.value() == null ? 0 : record.value().length);
        if (size > RecordLimits.PRODUCER_MAX_REQUEST_BYTES - RecordLimits.RECORD_OVERHEAD_BYTES) {
            // a request topic that allows more than the changelog takes: refuse it here, unbuffered
            deadLetterUnbuffered(meta, record, size);
            return;
        }
        String bufferKey = bufferKey(meta);
        buffer.put(bufferKey, BufferedRecord.encode(record.key(), record.value()));
        long now = context.currentSystemTimeMs();
        admit(bufferKey, new BufferedRecord(record.key(), record.value() == null ? new byte[0] : record.value()),
                Instant.ofEpochMilli(now), now);
        batcher.runDue(now);
        answerDone();
        tickWhileBusy(false);
        if (counts.waiting >= config.maxBatchSize()) {
            // back-pressure: a batch's worth of records waits for the registry or the cluster; take new ones slowly
            pause();
        }
    }

    /**
     * Starts the answer ticks while requests are at the batcher or waiting, and stops them when
     * none are. While only the engine is awaited (no record waits to be retried), the next tick
     * comes when the running batch can have ended, or after {@link #LONGEST_ENGINE_WAIT_TICK}
     * if that is sooner. A tick ({@code fromTick}) sets the interval;
     * a record only ever shortens it, so records arriving during a long batch do not reschedule
     * it each time.
     */
    private void tickWhileBusy(boolean fromTick) {
        boolean busy = !inFlight.isEmpty() || !waitingKeys.isEmpty();
        if (!busy) {
            if (answerTicks != null) {
                answerTicks.cancel();
                answerTicks = null;
            }
            return;
        }
        if (!fromTick && answerTicks != null && answerTickInterval.equals(ANSWER_INTERVAL)) {
            return; // a record cannot bring the next tick forward: it is at most one answer interval away
        }
        Duration interval = ANSWER_INTERVAL;
        Duration engineBusy = waitingKeys.isEmpty() ? batcher.runningBatchExpectedRemaining() : Duration.ZERO;
        // read after the estimate: a batch that ended since the last look has put its results on
        // the lane before the next batch became visible, so they are seen here and not waited past
        if (!lane.hasDone()) {
            if (engineBusy.compareTo(LONGEST_ENGINE_WAIT_TICK) > 0) {
                engineBusy = LONGEST_ENGINE_WAIT_TICK;
            }
            if (engineBusy.compareTo(ANSWER_INTERVAL) > 0) {
                interval = Duration.ofMillis((engineBusy.toNanos() + 999_999) / 1_000_000);
            }
        }
        long now = context.currentSystemTimeMs();
        long at = now + interval.toMillis();
        // a tick sets the schedule anew unless it stays at the answer interval (its grid is then
        // exact enough); a record only brings a later tick forward
        boolean reschedule = answerTicks == null
                || (fromTick ? !(interval.equals(ANSWER_INTERVAL) && answerTickInterval.equals(ANSWER_INTERVAL))
                        : at < answerTickAt - ANSWER_INTERVAL.toMillis());
        if (reschedule) {
            if (answerTicks != null) {
                answerTicks.cancel();
            }
            answerTickInterval = interval;
            answerTickAt = at;
            answerTicks = context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, this::onTick);
        } else if (fromTick) {
            answerTickAt = at;
        }
    }

    /**
     * At every answer tick: answers what the batcher finished; every half linger, tries
     * the waiting records again.
     */
    private void onTick(long now) {
        batcher.runDue(now);
        answerDone();
        // while the engine hangs, retrying would open every waiting record again for nothing
        if (!waitingKeys.isEmpty() && !batcher.stalled()
                && now - lastRetry >= Math.max(1, config.batchLinger().toMillis() / 2)) {
            lastRetry = now;
            retryWaiting(now);
            batcher.runDue(now);
            answerDone();
        }
        tickWhileBusy(true);
    }

    /** One buffered record on its way through the batcher. */
    private record Admitted(String bufferKey, OpenedRequest request, String replayKey, int limit, long arrivedAt) {
    }

    private void retryWaiting(long now) {
        List<String> retry = new ArrayList<>(waitingKeys);
        waitingKeys.clear();
        counts.waiting = 0;
        registryFailure = null;
        Instant at = Instant.ofEpochMilli(now);
        // these records waited already (or were restored): their batch need not linger again
        long arrivedLongAgo = now - config.batchLinger().toMillis();
        for (String key : retry) {
            byte[] bytes = buffer.get(key);
            if (bytes != null && !inFlight.containsKey(key)) {
                // the time it began to wait, where known, so its request time and queue wait include the wait
                long since = Math.min(waitingSince.getOrDefault(key, arrivedLongAgo),
                        keyWaitSince.getOrDefault(key, arrivedLongAgo));
                admit(key, BufferedRecord.decode(bytes), at, Math.min(arrivedLongAgo, since));
            }
        }
        if (counts.waiting > 0 || counts.waitingForKeys > 0) {
            LOG.info("batch.waiting task={} waiting={} waiting_for_keys={}", context.taskId(), counts.waiting,
                    counts.waitingForKeys);
        }
        counts.waitingForKeys = 0;
    }

    /**
     * Checks and opens one buffered record and submits it to the batcher (as arrived at
     * {@code arrivedAt}, which starts its linger); or ends it (an encrypted error or one dead
     * letter); or leaves it waiting for the registry, the cluster or keys.
     */
    private void admit(String bufferKey, BufferedRecord rec, Instant now, long arrivedAt) {
        if (registryFailure != null && !deserializer.knowsSchemaOf(rec.value())) {
            waitFor(bufferKey, "registry", registryFailure);
            return;
        }
        EncryptedRequest request;
        try {
            request = deserializer.deserialize(topicOf(bufferKey), rec.value());
        } catch (SchemaRegistryException e) {
            registryFailure = e;
            waitFor(bufferKey, "registry", e);
            return;
        } catch (SerializationException e) {
            deadLetter(bufferKey, rec, ErrorCode.MALFORMED, e.getMessage());
            return;
        } catch (RuntimeException | StackOverflowError e) {
            deadLetter(bufferKey, rec, ErrorCode.MALFORMED, "the record does not decode as an "
                    + "EncryptedRequest (" + e.getClass().getSimpleName() + ")");
            return;
        }
        if (request == null) {
            deadLetter(bufferKey, rec, ErrorCode.MALFORMED, "the record has no value");
            return;
        }
        // the client is the one whose topic carried the record; the envelope must say the same
        String topicClient = EnvelopeProtocol.clientOfRequestTopic(config.requestTopicFamily(), topicOf(bufferKey))
                .orElse(null);
        if (topicClient == null || !topicClient.equals(String.valueOf(request.getClientId()))) {
            deadLetter(bufferKey, rec, ErrorCode.CLIENT_MISMATCH, "the envelope names another client than "
                    + "the request topic " + topicOf(bufferKey) + "; a client sends under its own id only");
            return;
        }
        // a client of a request topic has a legal id, so this is a legal topic name
        String responseTopic = EnvelopeProtocol.responseTopicFor(topicClient);
        OptionalInt limit;
        try {
            limit = topics.maxValueBytes(responseTopic);
        } catch (TopicDirectory.TopicDirectoryUnavailableException e) {
            waitFor(bufferKey, "cluster", e);
            return;
        }
        if (limit.isEmpty()) {
            deadLetter(bufferKey, rec, ErrorCode.UNKNOWN_CLIENT, "no response topic " + responseTopic
                    + " exists; provision the client before it sends");
            return;
        }
        OpenedRequest opened;
        long openStarted = System.nanoTime();
        try {
            opened = opener.open(topicOf(bufferKey), request);
            StreamMeters.record(meters.open, System.nanoTime() - openStarted);
        } catch (EnvelopeException e) {
            if (e instanceof io.sealstream.envelope.UnknownKeyException unknown
                    && awaitsNewerKeys(bufferKey, unknown.keyId())) {
                // not back-pressure: a tenant's made-up key ids must not slow the other tenants' intake
                waitingKeys.add(bufferKey);
                counts.waitingForKeys++;
                return;
            }
            if (e.responder().isPresent()) {
                // it authenticated, so the client is known: tell it, under its response key
                ResponseSealer sealer = e.responder().get();
                String replayKey = replayKey(request);
                if (isReplay(replayKey)) {
                    deadLetter(bufferKey, rec, ErrorCode.REPLAYED, replayMessage());
                } else if (responseSchemaReady(bufferKey, rec, responseTopic)) {
                    answerError(bufferKey, sealer, "", e.reason(), e.getMessage(), replayKey, limit.getAsInt(), now);
                }
            } else {
                deadLetter(bufferKey, rec, e.reason(), e.getMessage());
            }
            return;
        }
        String replayKey = replayKey(request);
        if (isReplay(replayKey)) {
            deadLetter(bufferKey, rec, ErrorCode.REPLAYED, replayMessage());
            return;
        }
        if (!responseSchemaReady(bufferKey, rec, responseTopic)) {
            return;
        }
        if (!opened.responseTopic().equals(responseTopic)) {
            answerError(bufferKey, opened.sealer(), opened.request().getModel(), ErrorCode.INVALID_RESPONSE_TOPIC,
                    "the response topic must be " + responseTopic + "; re-send with that response topic",
                    replayKey, limit.getAsInt(), now);
            return;
        }
        if (opened.request().getTask() instanceof EmbeddingsInput input
                && input.getInput().size() > RequestLimits.MAX_EMBEDDING_INPUTS) {
            answerError(bufferKey, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                    "the embeddings input has " + input.getInput().size() + " texts; send at most "
                            + RequestLimits.MAX_EMBEDDING_INPUTS + " per request", replayKey, limit.getAsInt(), now);
            return;
        }
        long requestCost = batcher.costOf(opened.request());
        if (requestCost > config.maxBatchCost()) {
            answerError(bufferKey, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                    "the request needs " + requestCost + " units of work and one batch takes at most "
                            + config.maxBatchCost() + " (one unit per embedded text or generated token); "
                            + "split it into smaller requests", replayKey, limit.getAsInt(), now);
            return;
        }
        long answerBound = answerBound(opened, request);
        if (answerBound > limit.getAsInt()) {
            answerError(bufferKey, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                    "the answer to this request could take " + answerBound + " bytes and " + responseTopic
                            + " takes at most " + limit.getAsInt() + "; split it into smaller requests",
                    replayKey, limit.getAsInt(), now);
            return;
        }
        Admitted admitted = new Admitted(bufferKey, opened, replayKey, limit.getAsInt(), arrivedAt);
        boolean submitted;
        try {
            submitted = lane.submit(admitted, opened.request(), requestCost, arrivedAt, sinkFor(opened, topicClient));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            submitted = false;
        }
        if (submitted) {
            inFlight.put(bufferKey, admitted);
            if (replayKey != null) {
                inFlightReplayKeys.add(replayKey);
            }
        }
        if (!submitted) {
            // the batcher is closing with the worker: the record stays buffered for the task's next owner
            waitingKeys.add(bufferKey);
        }
    }

    /**
     * Where the text of a streaming request goes as it is generated: a {@link ChunkSink} when the
     * request asks to stream, this worker sends chunks and the client's stream topic exists (a
     * client provisioned before streaming has none: its streamed requests are answered whole).
     */
    private TokenSink sinkFor(OpenedRequest opened, String client) {
        if (opened.chunkSealer().isEmpty()) {
            return TokenSink.NONE;
        }
        io.sealstream.envelope.ChunkSealer sealer = opened.chunkSealer().get();
        boolean topicExists;
        try {
            topicExists = chunks != null && topics.maxValueBytes(EnvelopeProtocol.streamTopicFor(client)).isPresent();
        } catch (TopicDirectory.TopicDirectoryUnavailableException e) {
            topicExists = false;
        }
        if (!topicExists) {
            sealer.close();
            return TokenSink.NONE;
        }
        return new ChunkSink(sealer, chunks, java.time.Clock.systemUTC());
    }

    /** Seals and sends every result the batcher finished for this task; they reach clients at the next commit. */
    private void answerDone() {
        List<EngineBatcher.Done<Admitted>> done = lane.takeDone();
        if (done.isEmpty()) {
            return;
        }
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        for (EngineBatcher.Done<Admitted> d : done) {
            Admitted a = d.tag();
            if (inFlight.remove(a.bufferKey()) == null) {
                continue; // not this task's any more (it was closed and reopened meanwhile)
            }
            if (a.replayKey() != null) {
                inFlightReplayKeys.remove(a.replayKey());
            }
            answer(a, d.result(), now);
            if (!waitingKeys.contains(a.bufferKey())) {
                // it ended (a record left waiting for the registry or the cluster is timed when it does)
                StreamMeters.record(meters.request, TimeUnit.MILLISECONDS.toNanos(now.toEpochMilli() - a.arrivedAt()));
            }
        }
    }

    /** Counters of the current retry round, for its log line and for back-pressure. */
    private static final class Counts {
        int waiting;
        int waitingForKeys;
    }

    /**
     * The handler's bound of the plaintext answer plus what the envelope adds: the Confluent
     * header, the clear ids (up to 4 bytes a character), status, times, nonce and GCM tag. Zero when
     * the handler cannot tell.
     */
    private long answerBound(OpenedRequest opened, EncryptedRequest request) {
        long plain = batcher.maxAnswerBytes(opened.request());
        if (plain <= 0) {
            return 0;
        }
        long ids = String.valueOf(request.getRequestId()).length() + String.valueOf(request.getClientId()).length()
                + String.valueOf(request.getSessionId()).length();
        return plain + 4 * ids + 128;
    }

    /** Seals and sends the answer to an admitted request, or the error that replaces it. */
    private void answer(Admitted a, EngineBatcher.Result result, Instant now) {
        OpenedRequest o = a.request();
        if (result.engineStalled()) {
            LOG.warn("request.engine_stalled task={} request_id={}", context.taskId(), o.requestId());
            answerError(a.bufferKey(), o.sealer(), o.request().getModel(), ErrorCode.ENGINE_FAILURE,
                    "the inference engine hung on the batch that held this request (no answer in twice the "
                            + "transaction timeout) and the worker stopped; retry it once, and if it hangs again, "
                            + "report it: the request may hang the engine", a.replayKey(), a.limit(), now);
            return;
        }
        if (result.response() == null) {
            LOG.warn("request.handler.failed task={} request_id={} error={}", context.taskId(), o.requestId(),
                    result.failure());
            answerError(a.bufferKey(), o.sealer(), o.request().getModel(), ErrorCode.ENGINE_FAILURE,
                    "the inference engine failed on this request (" + result.failure()
                            + "); retry it, and report it if it persists", a.replayKey(), a.limit(), now);
            return;
        }
        EncryptedResponse sealed;
        long sealStarted = System.nanoTime();
        try {
            sealed = o.sealResponse(result.response(), now);
            StreamMeters.record(meters.seal, System.nanoTime() - sealStarted);
        } catch (RuntimeException e) {
            // the sealer was not used: the error can still be sealed under the same key
            answerError(a.bufferKey(), o.sealer(), o.request().getModel(), ErrorCode.ENGINE_FAILURE,
                    "the inference engine returned an invalid result (" + e.getClass().getSimpleName()
                            + "); report it to the operator", a.replayKey(), a.limit(), now);
            return;
        }
        byte[] bytes;
        try {
            bytes = serializer.serialize(responseTopic(o.clientId()), sealed);
        } catch (RuntimeException e) {
            undeliverable(a.bufferKey(), e);
            return;
        }
        if (bytes.length > a.limit()) {
            // a fresh sealer: the first one sealed the answer that is now discarded
            LOG.warn("request.response_too_large task={} request_id={} bytes={} limit={}",
                    context.taskId(), o.requestId(), bytes.length, a.limit());
            answerErrorReopened(a, "the answer is " + bytes.length + " bytes and the response topic takes at most "
                    + a.limit() + "; send fewer texts per request", now);
            return;
        }
        send(a.bufferKey(), o.requestId(), responseTopic(o.clientId()), bytes, a.replayKey());
        if (result.response().getError() == null) {
            meters.answered();
        } else {
            // the engine refused it (model not served, bad input): the client gets an error
            meters.failed(StreamMeters.Outcome.ERROR,
                    ErrorCode.of(result.response().getError().getCode()).orElse(ErrorCode.ENGINE_FAILURE));
        }
    }

    /**
     * The answer was too large after sealing; the response key is single-use, so the request is
     * opened again from its buffered ciphertext for a fresh sealer.
     */
    private void answerErrorReopened(Admitted a, String message, Instant now) {
        BufferedRecord rec = BufferedRecord.decode(buffer.get(a.bufferKey()));
        try {
            OpenedRequest again = opener.open(topicOf(a.bufferKey()),
                    deserializer.deserialize(topicOf(a.bufferKey()), rec.value()));
            answerError(a.bufferKey(), again.sealer(), again.request().getModel(), ErrorCode.RESPONSE_TOO_LARGE,
                    message, a.replayKey(), a.limit(), now);
        } catch (EnvelopeException | RuntimeException e) {
            // it opened a moment ago; a key rotated out in between leaves only the DLQ
            deadLetter(a.bufferKey(), rec, ErrorCode.RESPONSE_TOO_LARGE, message);
        }
    }

    private void answerError(String bufferKey, ResponseSealer sealer, String model, ErrorCode code, String message,
                             String replayKey, int limit, Instant now) {
        long sealStarted = System.nanoTime();
        EncryptedResponse sealed = sealer.sealError(model, code.code(), message, now);
        StreamMeters.record(meters.seal, System.nanoTime() - sealStarted);
        String topic = responseTopic(sealer.clientId());
        byte[] bytes;
        try {
            bytes = serializer.serialize(topic, sealed);
        } catch (RuntimeException e) {
            undeliverable(bufferKey, e);
            return;
        }
        if (bytes.length > limit) {
            // only a topic limit below a few KiB gets here; the operator must raise it
            BufferedRecord rec = BufferedRecord.decode(buffer.get(bufferKey));
            deadLetter(bufferKey, rec, code, message);
            return;
        }
        send(bufferKey, sealer.requestId(), topic, bytes, replayKey);
        meters.failed(StreamMeters.Outcome.ERROR, code);
    }

    /**
     * The answer was sealed but cannot be serialized for its topic. The response schema was
     * resolved at admission, so this is the registry failing since (the record waits) or refusing
     * now (one dead letter); never an exception out of the batch.
     */
    private void undeliverable(String bufferKey, RuntimeException e) {
        SchemaRegistryException registry = registryFailureIn(e);
        if (registry != null && registry.isTransient()) {
            waitFor(bufferKey, "registry", e);
            return;
        }
        readyResponseTopics.clear();
        BufferedRecord rec = BufferedRecord.decode(buffer.get(bufferKey));
        deadLetter(bufferKey, rec, ErrorCode.UNDELIVERABLE, "the answer could not be serialized "
                + "for the response topic (" + e.getClass().getSimpleName() + ")");
    }

    /**
     * Whether the response topic's subject takes the response schema, asked after the request
     * authenticated and before it is inferred, so a registry that fails or refuses costs no
     * inference and forged records cost no registry call. The answer is remembered per topic: a
     * success for good, a failure for {@link #SCHEMA_RETRY} (so a refusing subject costs one
     * registry call per topic per interval, not one per record). On a failure the record waits
     * (the registry failed) or becomes one {@code undeliverable} dead letter (it refused).
     */
    private boolean responseSchemaReady(String bufferKey, BufferedRecord rec, String responseTopic) {
        if (readyResponseTopics.contains(responseTopic)) {
            return true;
        }
        SchemaFailure failed = schemaFailures.get(responseTopic);
        if (failed == null || context.currentSystemTimeMs() >= failed.retryAt()) {
            failed = probeResponseSchema(responseTopic);
        }
        if (failed == null) {
            return true;
        }
        if (failed.error().isTransient()) {
            waitFor(bufferKey, "registry", failed.error());
        } else {
            deadLetter(bufferKey, rec, ErrorCode.UNDELIVERABLE, "the registry refuses the response schema for "
                    + responseTopic + " (HTTP " + failed.error().httpStatus() + ")");
        }
        return false;
    }

    private record SchemaFailure(SchemaRegistryException error, long retryAt) {
    }

    private SchemaFailure probeResponseSchema(String responseTopic) {
        try {
            serializer.serialize(responseTopic, SCHEMA_PROBE);
        } catch (RuntimeException e) {
            SchemaRegistryException error = registryFailureIn(e);
            if (error == null) {
                error = new SchemaRegistryException("serializing for " + responseTopic + " failed ("
                        + e.getClass().getSimpleName() + ")", 0, 0, e);
            }
            if (schemaFailures.size() >= AdminTopicDirectory.MAX_ENTRIES) {
                schemaFailures.clear();
            }
            SchemaFailure failure = new SchemaFailure(error, context.currentSystemTimeMs() + SCHEMA_RETRY.toMillis());
            schemaFailures.put(responseTopic, failure);
            return failure;
        }
        schemaFailures.remove(responseTopic);
        if (readyResponseTopics.size() >= AdminTopicDirectory.MAX_ENTRIES) {
            readyResponseTopics.clear();
        }
        readyResponseTopics.add(responseTopic);
        return null;
    }

    private void send(String bufferKey, String requestId, String topic, byte[] bytes, String replayKey) {
        context.forward(new Record<>(requestId, new Outgoing(topic, bytes), context.currentSystemTimeMs()),
                InferenceTopology.RESPONSE_SINK);
        if (replayKey != null) {
            answered.put(replayKey, context.currentSystemTimeMs());
        }
        done(bufferKey);
    }

    private void deadLetter(String bufferKey, BufferedRecord rec, ErrorCode reason, String message) {
        OptionalInt limit;
        try {
            limit = topics.maxValueBytes(config.dlqTopic());
        } catch (TopicDirectory.TopicDirectoryUnavailableException e) {
            waitFor(bufferKey, "cluster", e);
            return;
        }
        if (limit.isEmpty()) {
            // checked at start; deleted since: keep the record until an operator restores the topic
            LOG.error("dlq.missing topic={} reason={}", config.dlqTopic(), reason.code());
            waitFor(bufferKey, "dlq_topic", null);
            return;
        }
        emitDeadLetter(rec.key(), rec.value(), limit.getAsInt(), sourceOf(bufferKey), reason, message);
        done(bufferKey);
    }

    /**
     * A record too large to buffer ends at once as one dead letter, never buffered. Its value is
     * larger than any DLQ topic can take (the same producer limit bounds both), so the dead letter
     * carries only its size and digest. Without a DLQ topic (deleted since the worker started) it
     * cannot end: the task fails, keeping its offset, until an operator restores the topic.
     */
    private void deadLetterUnbuffered(RecordMetadata meta, Record<String, byte[]> record, long size) {
        String source = meta.topic() + "/" + meta.partition() + "@" + meta.offset();
        if (topics.maxValueBytes(config.dlqTopic()).isEmpty()) {
            throw new IllegalStateException("the dead-letter topic '" + config.dlqTopic() + "' is missing; a record of "
                    + size + " bytes at " + source + " cannot be buffered or dead-lettered: restore the topic");
        }
        // no DLQ topic takes more than a worker can buffer, so only the size and digest go
        emitDeadLetter(record.key(), record.value() == null ? new byte[0] : record.value(), 0, source,
                ErrorCode.REQUEST_TOO_LARGE, "the record has about " + size + " bytes and a worker buffers at most "
                        + (RecordLimits.PRODUCER_MAX_REQUEST_BYTES - RecordLimits.RECORD_OVERHEAD_BYTES)
                        + "; lower the request topic's max.message.bytes");
    }

    /**
     * Forwards one dead letter, bounded: the key cut to a digest above
     * {@link RecordLimits#MAX_DEAD_LETTER_KEY}, the message cut at {@link RecordLimits#MAX_HEADER_TEXT},
     * and a value above {@code valueLimit} replaced by its size and SHA-256.
     */
    private void emitDeadLetter(String key, byte[] value, int valueLimit, String source, ErrorCode reason,
                                String message) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetters.REASON_HEADER, reason.code().getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetters.MESSAGE_HEADER, cut(String.valueOf(message)).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetters.SOURCE_HEADER, source.getBytes(StandardCharsets.UTF_8));
        byte[] kept = value;
        if (value.length > valueLimit) {
            headers.add(DeadLetters.ORIGINAL_SIZE_HEADER, Integer.toString(value.length).getBytes(StandardCharsets.UTF_8));
            headers.add(DeadLetters.ORIGINAL_SHA256_HEADER, HexFormat.of().formatHex(sha256(value))
                    .getBytes(StandardCharsets.UTF_8));
            kept = new byte[0];
        }
        context.forward(new Record<>(boundedKey(key), new Outgoing(config.dlqTopic(), kept),
                context.currentSystemTimeMs(), headers), InferenceTopology.DLQ_SINK);
        LOG.warn("request.dead_lettered source={} reason={}", source, reason.code());
        meters.failed(StreamMeters.Outcome.DEAD_LETTER, reason);
    }

    private void done(String bufferKey) {
        buffer.delete(bufferKey);
        waitingSince.remove(bufferKey);
        keyWaitSince.remove(bufferKey);
    }

    /**
     * True while a record sealed to key id {@code keyId}, which this worker lacks, should wait:
     * <ul>
     *   <li>while the worker holds no keys at all (its lease ended and it is leaving the group:
     *       another worker will take the record; dead-lettering it would lose it);</li>
     *   <li>until a key refresh that started after the record was first seen has succeeded (the
     *       key may have been published since the last refresh), or {@link #KEY_REFRESH_WAIT} at
     *       most while refreshes fail.</li>
     * </ul>
     * A key id still unknown after such a refresh is remembered (per topic, the latest 10,000), so
     * further records naming it are dead-lettered at once instead of waiting again.
     */
    private boolean awaitsNewerKeys(String bufferKey, long keyId) {
        String topic = topicOf(bufferKey);
        if (!opener.holdsKeysFor(topic)) {
            return true;
        }
        String id = topic + "/" + keyId;
        if (unknownAfterRefresh.containsKey(id)) {
            return false;
        }
        long now = System.currentTimeMillis();
        long since = keyWaitSince.computeIfAbsent(bufferKey, k -> now);
        if (keys.lastSuccessStartedAtMillis() > since) {
            keyWaitSince.remove(bufferKey);
            unknownAfterRefresh.put(id, Boolean.TRUE);
            return false;
        }
        if (now - since > KEY_REFRESH_WAIT.toMillis()) {
            keyWaitSince.remove(bufferKey);
            return false;
        }
        if (now == since) {
            LOG.info("batch.waiting_for_keys task={} source={}", context.taskId(), sourceOf(bufferKey));
        }
        keys.request();
        return true;
    }

    /**
     * Keeps the record buffered for the next retry round. A record that has waited for the registry
     * longer than max-request-age (it would be refused as expired by then anyway) becomes one dead
     * letter: a registry that keeps failing on one schema id cannot hold a record forever. Waits
     * for the cluster have no such bound, because a dead letter needs the cluster too.
     */
    private void waitFor(String bufferKey, String what, Exception e) {
        long now = context.currentSystemTimeMs();
        long since = "registry".equals(what) ? waitingSince.computeIfAbsent(bufferKey, k -> now) : now;
        if (now - since > opener.maxRequestAge().toMillis()) {
            deadLetter(bufferKey, BufferedRecord.decode(buffer.get(bufferKey)),
                    ErrorCode.UNDELIVERABLE, "the schema registry failed on this record for longer than max-request-age ("
                            + (e == null ? "-" : e.getClass().getSimpleName()) + ")");
            return;
        }
        waitingKeys.add(bufferKey);
        counts.waiting++;
        if (counts.waiting == 1) {
            LOG.warn("batch.waiting task={} on={} source={} error={}", context.taskId(), what, sourceOf(bufferKey),
                    e == null ? "-" : e.getClass().getSimpleName());
        }
    }

    private void pause() {
        try {
            Thread.sleep(BACK_PRESSURE_PAUSE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The registry's failure behind {@code e} (the serializer wraps it), or null if it is something else. */
    private static SchemaRegistryException registryFailureIn(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaRegistryException sre) {
                return sre;
            }
        }
        return null;
    }

    /**
     * The answered store's key: created_at first (13 digits, so keys sort by time and old entries
     * leave by one range scan), then a SHA-256 over every field of the authenticated envelope, each
     * length-prefixed. A replay carries the same fields, however its bytes were re-encoded, so it
     * finds the key; a tenant cannot make another tenant's request look answered, because it cannot
     * make that request's ciphertext and tag (they need the victim's session key). A client's own
     * retry is sealed afresh and is a new request. Null when created_at is outside the store's
     * range, which only expired or far-future requests have, and those are refused anyway.
     */
    private static String replayKey(EncryptedRequest r) {
        long createdAt = r.getCreatedAt() == null ? -1 : r.getCreatedAt().toEpochMilli();
        if (createdAt < 0 || createdAt > 9_999_999_999_999L) {
            return null;
        }
        MessageDigest d = sha256();
        java.nio.ByteBuffer numbers = java.nio.ByteBuffer.allocate(20).putInt(r.getVersion()).putLong(r.getKeyId())
                .putLong(createdAt);
        d.update(numbers.array());
        for (CharSequence field : new CharSequence[] {r.getRequestId(), r.getClientId(), r.getResponseTopic(),
                r.getSessionId()}) {
            lengthPrefixed(d, String.valueOf(field).getBytes(StandardCharsets.UTF_8));
        }
        for (java.nio.ByteBuffer field : new java.nio.ByteBuffer[] {r.getWrappedDek(), r.getNonce(), r.getCiphertext()}) {
            java.nio.ByteBuffer view = field == null ? java.nio.ByteBuffer.allocate(0) : field.duplicate();
            byte[] bytes = new byte[view.remaining()];
            view.get(bytes);
            lengthPrefixed(d, bytes);
        }
        return zeroPadded(createdAt, 13) + '\u0000'
                + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(d.digest());
    }

    private static void lengthPrefixed(MessageDigest d, byte[] bytes) {
        d.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
        d.update(bytes);
    }

    /** Whether these request bytes were answered already, or are at the batcher now. */
    private boolean isReplay(String replayKey) {
        if (replayKey == null) {
            return false;
        }
        return inFlightReplayKeys.contains(replayKey) || answered.get(replayKey) != null;
    }

    private static String replayMessage() {
        return "these exact request bytes were already answered; a replay is not answered again";
    }

    /**
     * Drops entries whose created_at is older than max-request-age, plus the allowed clock skew so
     * that a task moved to a worker whose clock runs behind still knows every record it would accept.
     */
    private void purgeAnswered(long now) {
        long cutoff = now - opener.maxRequestAge().toMillis() - RequestOpener.MAX_CLOCK_SKEW.toMillis();
        if (cutoff <= 0) {
            return;
        }
        List<String> old = new ArrayList<>();
        try (KeyValueIterator<String, Long> it = answered.range(null, zeroPadded(cutoff, 13))) {
            it.forEachRemaining(kv -> old.add(kv.key));
        }
        old.forEach(answered::delete);
        if (!old.isEmpty()) {
            LOG.info("answered.purged task={} ids={}", context.taskId(), old.size());
        }
    }

    private static String boundedKey(String key) {
        return key != null && key.length() > RecordLimits.MAX_DEAD_LETTER_KEY
                ? "sha256:" + HexFormat.of().formatHex(sha256(key.getBytes(StandardCharsets.UTF_8))) : key;
    }

    private static String responseTopic(String clientId) {
        return EnvelopeProtocol.responseTopicFor(clientId);
    }

    private static String cut(String s) {
        return s.length() <= RecordLimits.MAX_HEADER_TEXT ? s : s.substring(0, RecordLimits.MAX_HEADER_TEXT - 3) + "...";
    }

    private static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    /**
     * Buffer keys sort by arrival in this task: a sequence number first (19 digits), then the source
     * topic, partition and offset. A task holds partition p of every client's request topic, so an
     * order by topic name would let one busy client keep another's older records waiting.
     */
    private String bufferKey(RecordMetadata meta) {
        return new StringBuilder(80).append(zeroPadded(nextSequence++, 19)).append('\u0000').append(meta.topic())
                .append('\u0000').append(zeroPadded(meta.partition(), 10)).append('\u0000')
                .append(zeroPadded(meta.offset(), 19)).toString();
    }

    /** {@code value} (not negative) in decimal, left-padded with zeros to {@code width} digits. */
    private static String zeroPadded(long value, int width) {
        String digits = Long.toString(value);
        return digits.length() >= width ? digits : "0".repeat(width - digits.length()) + digits;
    }

    private static long sequenceOf(String bufferKey) {
        return Long.parseLong(bufferKey.substring(0, bufferKey.indexOf('\u0000')));
    }

    private static String topicOf(String bufferKey) {
        int start = bufferKey.indexOf('\u0000') + 1;
        return bufferKey.substring(start, bufferKey.indexOf('\u0000', start));
    }

    private static String sourceOf(String bufferKey) {
        String[] parts = bufferKey.split("\u0000");
        return parts[1] + "/" + Integer.parseInt(parts[2]) + "@" + Long.parseLong(parts[3]);
    }
}
