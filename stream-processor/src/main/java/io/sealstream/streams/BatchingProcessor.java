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
 * Buffers request ciphertext in a changelogged store and flushes it as one batch when the batch is
 * full or has lingered long enough: open every request, hand the opened ones to the
 * {@link BatchHandler}, seal each answer, and forward answers and dead letters. Buffer writes,
 * deletes, the answered-requests store, outputs and input offsets commit in one Kafka transaction
 * (exactly_once_v2), so a crash at any point neither loses a request nor answers one twice.
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

    private final RequestOpener opener;
    private final BatchHandler handler;
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
    private int buffered;
    /** The next buffer key's sequence number; restored past the largest buffered one. */
    private long nextSequence;
    private long firstBufferedAt;
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
    /** Records that waited at the last flush for the registry or the cluster; intake slows while any do. */
    private int waiting;

    BatchingProcessor(RequestOpener opener, BatchHandler handler, ConfluentAvroDeserializer<EncryptedRequest> deserializer,
                      Serializer<EncryptedResponse> serializer, TopicDirectory topics, StreamProcessorConfig config,
                      KeyRefresh keys) {
        this.keys = keys;
        this.opener = opener;
        this.handler = handler;
        this.deserializer = deserializer;
        this.serializer = serializer;
        this.topics = topics;
        this.config = config;
    }

    @Override
    public void init(ProcessorContext<String, Outgoing> context) {
        this.context = context;
        this.buffer = context.getStateStore(InferenceTopology.BUFFER_STORE);
        this.answered = context.getStateStore(InferenceTopology.ANSWERED_STORE);
        try (KeyValueIterator<String, byte[]> it = buffer.all()) {
            while (it.hasNext()) {
                nextSequence = Math.max(nextSequence, sequenceOf(it.next().key) + 1);
                buffered++;
            }
        }
        if (buffered > 0) {
            // restored after a crash or a rebalance: flush at the next linger tick
            firstBufferedAt = context.currentSystemTimeMs();
            LOG.info("batch.restored task={} buffered={}", context.taskId(), buffered);
        }
        long tick = Math.max(1, config.batchLinger().toMillis() / 2);
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::onTick);
        context.schedule(PURGE_INTERVAL, PunctuationType.WALL_CLOCK_TIME, this::purgeAnswered);
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
        buffer.put(bufferKey(meta), BufferedRecord.encode(record.key(), record.value()));
        if (this.buffered++ == 0) {
            firstBufferedAt = context.currentSystemTimeMs();
        }
        if (this.buffered >= config.maxBatchSize()) {
            flush();
        }
        if (waiting >= config.maxBatchSize()) {
            // back-pressure: a batch's worth of records waits for the registry or the cluster; take new ones slowly
            pause();
        }
    }

    private void onTick(long now) {
        if (buffered > 0 && now - firstBufferedAt >= config.batchLinger().toMillis()) {
            flush();
        }
    }

    /** One buffered record on its way through a flush. */
    private record Admitted(String bufferKey, OpenedRequest request, String replayKey, int limit) {
    }

    private void flush() {
        long started = System.nanoTime();
        List<KeyValue<String, byte[]>> entries = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = buffer.all()) {
            it.forEachRemaining(entries::add);
        }
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        Counts counts = new Counts();
        List<Admitted> admitted = new ArrayList<>();
        Set<String> replayKeysThisFlush = new HashSet<>();
        long cost = 0;
        boolean full = false;
        // once the registry failed in this flush, records it would have to be asked about wait
        // without asking again: one registry timeout per flush, not one per waiting record
        SchemaRegistryException registryFailure = null;
        for (KeyValue<String, byte[]> entry : entries) {
            if (full) {
                counts.leftOver++;
                continue;
            }
            BufferedRecord rec = BufferedRecord.decode(entry.value);
            String source = sourceOf(entry.key);
            if (registryFailure != null && !deserializer.knowsSchemaOf(rec.value())) {
                waitFor(entry.key, "registry", registryFailure, counts);
                continue;
            }
            EncryptedRequest request;
            try {
                request = deserializer.deserialize(topicOf(entry.key), rec.value());
            } catch (SchemaRegistryException e) {
                registryFailure = e;
                waitFor(entry.key, "registry", e, counts);
                continue;
            } catch (SerializationException e) {
                deadLetter(entry.key, rec, source, ErrorCode.MALFORMED, e.getMessage(), counts);
                continue;
            } catch (RuntimeException | StackOverflowError e) {
                deadLetter(entry.key, rec, source, ErrorCode.MALFORMED, "the record does not decode as an "
                        + "EncryptedRequest (" + e.getClass().getSimpleName() + ")", counts);
                continue;
            }
            if (request == null) {
                deadLetter(entry.key, rec, source, ErrorCode.MALFORMED, "the record has no value", counts);
                continue;
            }
            // the client is the one whose topic carried the record; the envelope must say the same
            String topicClient = EnvelopeProtocol.clientOfRequestTopic(config.requestTopicFamily(), topicOf(entry.key))
                    .orElse(null);
            if (topicClient == null || !topicClient.equals(String.valueOf(request.getClientId()))) {
                deadLetter(entry.key, rec, source, ErrorCode.CLIENT_MISMATCH, "the envelope names another client than "
                        + "the request topic " + topicOf(entry.key) + "; a client sends under its own id only", counts);
                continue;
            }
            // a client of a request topic has a legal id, so this is a legal topic name
            String responseTopic = EnvelopeProtocol.responseTopicFor(topicClient);
            OptionalInt limit;
            try {
                limit = topics.maxValueBytes(responseTopic);
            } catch (TopicDirectory.TopicDirectoryUnavailableException e) {
                waitFor(entry.key, "cluster", e, counts);
                continue;
            }
            if (limit.isEmpty()) {
                deadLetter(entry.key, rec, source, ErrorCode.UNKNOWN_CLIENT, "no response topic " + responseTopic
                        + " exists; provision the client before it sends", counts);
                continue;
            }
            OpenedRequest opened;
            try {
                opened = opener.open(topicOf(entry.key), request);
            } catch (EnvelopeException e) {
                if (e instanceof io.sealstream.envelope.UnknownKeyException unknown
                        && awaitsNewerKeys(entry.key, unknown.keyId())) {
                    // not back-pressure: a tenant's made-up key ids must not slow the other tenants' intake
                    counts.waitingForKeys++;
                    continue;
                }
                if (e.responder().isPresent()) {
                    // it authenticated, so the client is known: tell it, under its response key
                    ResponseSealer sealer = e.responder().get();
                    String replayKey = replayKey(request);
                    if (isReplay(replayKey, replayKeysThisFlush)) {
                        deadLetter(entry.key, rec, source, ErrorCode.REPLAYED, replayMessage(), counts);
                    } else if (responseSchemaReady(entry.key, rec, source, responseTopic, counts)) {
                        answerError(entry.key, sealer, "", e.reason(), e.getMessage(), replayKey, limit.getAsInt(),
                                now, counts);
                    }
                } else {
                    deadLetter(entry.key, rec, source, e.reason(), e.getMessage(), counts);
                }
                continue;
            }
            String replayKey = replayKey(request);
            if (isReplay(replayKey, replayKeysThisFlush)) {
                deadLetter(entry.key, rec, source, ErrorCode.REPLAYED, replayMessage(), counts);
                continue;
            }
            if (!responseSchemaReady(entry.key, rec, source, responseTopic, counts)) {
                continue;
            }
            if (!opened.responseTopic().equals(responseTopic)) {
                answerError(entry.key, opened.sealer(), opened.request().getModel(), ErrorCode.INVALID_RESPONSE_TOPIC,
                        "the response topic must be " + responseTopic + "; re-send with that response topic",
                        replayKey, limit.getAsInt(), now, counts);
                continue;
            }
            if (opened.request().getTask() instanceof EmbeddingsInput input
                    && input.getInput().size() > RequestLimits.MAX_EMBEDDING_INPUTS) {
                answerError(entry.key, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                        "the embeddings input has " + input.getInput().size() + " texts; send at most "
                                + RequestLimits.MAX_EMBEDDING_INPUTS + " per request", replayKey, limit.getAsInt(), now,
                        counts);
                continue;
            }
            long requestCost = costOf(opened.request());
            if (requestCost > config.maxBatchCost()) {
                answerError(entry.key, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                        "the request needs " + requestCost + " units of work and one batch takes at most "
                                + config.maxBatchCost() + " (one unit per embedded text or generated token); "
                                + "split it into smaller requests", replayKey, limit.getAsInt(), now, counts);
                continue;
            }
            long answerBound = answerBound(opened, request);
            if (answerBound > limit.getAsInt()) {
                answerError(entry.key, opened.sealer(), opened.request().getModel(), ErrorCode.REQUEST_TOO_LARGE,
                        "the answer to this request could take " + answerBound + " bytes and " + responseTopic
                                + " takes at most " + limit.getAsInt() + "; split it into smaller requests",
                        replayKey, limit.getAsInt(), now, counts);
                continue;
            }
            if (cost + requestCost > config.maxBatchCost() && !admitted.isEmpty()) {
                // the batch is full; this and later records stay buffered for the next flush
                full = true;
                counts.leftOver++;
                continue;
            }
            cost += requestCost;
            admitted.add(new Admitted(entry.key, opened, replayKey, limit.getAsInt()));
        }
        List<Result> results = infer(admitted.stream().map(Admitted::request).toList());
        for (int i = 0; i < admitted.size(); i++) {
            Admitted a = admitted.get(i);
            answer(a, results.get(i), now, counts);
        }
        buffered = entries.size() - counts.done;
        waiting = counts.waiting;
        if (buffered > 0) {
            // left-overs of a full batch go at the next tick; records that wait, after a linger
            firstBufferedAt = counts.leftOver > 0 ? context.currentSystemTimeMs() - config.batchLinger().toMillis()
                    : context.currentSystemTimeMs();
        }
        LOG.info("batch.flushed task={} records={} inferred={} cost={} refused={} dead_lettered={} replays={} "
                        + "waiting={} waiting_for_keys={} left_over={} ms={}",
                context.taskId(), entries.size(), admitted.size(), cost, counts.refused, counts.dead, counts.replays,
                counts.waiting, counts.waitingForKeys, counts.leftOver, (System.nanoTime() - started) / 1_000_000);
    }

    private static final class Counts {
        int done;
        int refused;
        int dead;
        int replays;
        int waiting;
        int waitingForKeys;
        int leftOver;
    }

    private long costOf(InferenceRequest request) {
        try {
            return Math.max(1, handler.cost(request));
        } catch (RuntimeException e) {
            return 1;
        }
    }

    /**
     * The handler's bound of the plaintext answer plus what the envelope adds: the Confluent
     * header, the clear ids (up to 4 bytes a character), status, times, nonce and GCM tag. Zero when
     * the handler cannot tell.
     */
    private long answerBound(OpenedRequest opened, EncryptedRequest request) {
        long plain;
        try {
            plain = handler.maxAnswerBytes(opened.request());
        } catch (RuntimeException e) {
            return 0;
        }
        if (plain <= 0) {
            return 0;
        }
        long ids = String.valueOf(request.getRequestId()).length() + String.valueOf(request.getClientId()).length()
                + String.valueOf(request.getSessionId()).length();
        return plain + 4 * ids + 128;
    }

    /** A request's result, or why the engine gave none (an exception's class name, never its message). */
    private record Result(InferenceResponse response, String failure) {
    }

    /** Runs the batch; if the handler fails, runs each request alone so only the failing ones get errors. */
    private List<Result> infer(List<OpenedRequest> batch) {
        if (batch.isEmpty()) {
            return List.of();
        }
        List<InferenceRequest> requests = batch.stream().map(OpenedRequest::request).toList();
        try {
            List<InferenceResponse> results = handler.handle(requests);
            if (results == null || results.size() != requests.size()) {
                throw new IllegalStateException("the batch handler returned "
                        + (results == null ? "null" : results.size() + " results") + " for " + requests.size() + " requests");
            }
            return results.stream().map(r -> new Result(r, r == null ? "NullResult" : null)).toList();
        } catch (Exception | StackOverflowError | LinkageError e) {
            LOG.warn("batch.handler.failed task={} size={} error={} retrying=one_by_one",
                    context.taskId(), batch.size(), e.getClass().getSimpleName());
        }
        List<Result> results = new ArrayList<>();
        for (OpenedRequest o : batch) {
            try {
                List<InferenceResponse> one = handler.handle(List.of(o.request()));
                if (one == null || one.size() != 1 || one.get(0) == null) {
                    throw new IllegalStateException("the batch handler returned no single result");
                }
                results.add(new Result(one.get(0), null));
            } catch (Exception | StackOverflowError | LinkageError e) {
                LOG.warn("request.handler.failed task={} request_id={} error={}",
                        context.taskId(), o.requestId(), e.getClass().getSimpleName());
                results.add(new Result(null, e.getClass().getSimpleName()));
            }
        }
        return results;
    }

    /** Seals and sends the answer to an admitted request, or the error that replaces it. */
    private void answer(Admitted a, Result result, Instant now, Counts counts) {
        OpenedRequest o = a.request();
        if (result.response() == null) {
            answerError(a.bufferKey(), o.sealer(), o.request().getModel(), ErrorCode.ENGINE_FAILURE,
                    "the inference engine failed on this request (" + result.failure()
                            + "); retry it, and report it if it persists", a.replayKey(), a.limit(), now, counts);
            return;
        }
        EncryptedResponse sealed;
        try {
            sealed = o.sealResponse(result.response(), now);
        } catch (RuntimeException e) {
            // the sealer was not used: the error can still be sealed under the same key
            answerError(a.bufferKey(), o.sealer(), o.request().getModel(), ErrorCode.ENGINE_FAILURE,
                    "the inference engine returned an invalid result (" + e.getClass().getSimpleName()
                            + "); report it to the operator", a.replayKey(), a.limit(), now, counts);
            return;
        }
        byte[] bytes;
        try {
            bytes = serializer.serialize(responseTopic(o.clientId()), sealed);
        } catch (RuntimeException e) {
            undeliverable(a.bufferKey(), e, counts);
            return;
        }
        if (bytes.length > a.limit()) {
            // a fresh sealer: the first one sealed the answer that is now discarded
            LOG.warn("request.response_too_large task={} request_id={} bytes={} limit={}",
                    context.taskId(), o.requestId(), bytes.length, a.limit());
            answerErrorReopened(a, "the answer is " + bytes.length + " bytes and the response topic takes at most "
                    + a.limit() + "; send fewer texts per request", now, counts);
            return;
        }
        send(a.bufferKey(), o.requestId(), responseTopic(o.clientId()), bytes, a.replayKey(), counts);
    }

    /**
     * The answer was too large after sealing; the response key is single-use, so the request is
     * opened again from its buffered ciphertext for a fresh sealer.
     */
    private void answerErrorReopened(Admitted a, String message, Instant now, Counts counts) {
        BufferedRecord rec = BufferedRecord.decode(buffer.get(a.bufferKey()));
        try {
            OpenedRequest again = opener.open(topicOf(a.bufferKey()),
                    deserializer.deserialize(topicOf(a.bufferKey()), rec.value()));
            answerError(a.bufferKey(), again.sealer(), again.request().getModel(), ErrorCode.RESPONSE_TOO_LARGE,
                    message, a.replayKey(), a.limit(), now, counts);
        } catch (EnvelopeException | RuntimeException e) {
            // it opened a moment ago; a key rotated out in between leaves only the DLQ
            deadLetter(a.bufferKey(), rec, sourceOf(a.bufferKey()), ErrorCode.RESPONSE_TOO_LARGE, message, counts);
        }
    }

    private void answerError(String bufferKey, ResponseSealer sealer, String model, ErrorCode code, String message,
                             String replayKey, int limit, Instant now, Counts counts) {
        EncryptedResponse sealed = sealer.sealError(model, code.code(), message, now);
        String topic = responseTopic(sealer.clientId());
        byte[] bytes;
        try {
            bytes = serializer.serialize(topic, sealed);
        } catch (RuntimeException e) {
            undeliverable(bufferKey, e, counts);
            return;
        }
        if (bytes.length > limit) {
            // only a topic limit below a few KiB gets here; the operator must raise it
            BufferedRecord rec = BufferedRecord.decode(buffer.get(bufferKey));
            deadLetter(bufferKey, rec, sourceOf(bufferKey), code, message, counts);
            return;
        }
        counts.refused++;
        send(bufferKey, sealer.requestId(), topic, bytes, replayKey, counts);
    }

    /**
     * The answer was sealed but cannot be serialized for its topic. The response schema was
     * resolved at admission, so this is the registry failing since (the record waits) or refusing
     * now (one dead letter); never an exception out of the batch.
     */
    private void undeliverable(String bufferKey, RuntimeException e, Counts counts) {
        SchemaRegistryException registry = registryFailureIn(e);
        if (registry != null && registry.isTransient()) {
            waitFor(bufferKey, "registry", e, counts);
            return;
        }
        readyResponseTopics.clear();
        BufferedRecord rec = BufferedRecord.decode(buffer.get(bufferKey));
        deadLetter(bufferKey, rec, sourceOf(bufferKey), ErrorCode.UNDELIVERABLE, "the answer could not be serialized "
                + "for the response topic (" + e.getClass().getSimpleName() + ")", counts);
    }

    /**
     * Whether the response topic's subject takes the response schema, asked after the request
     * authenticated and before it is inferred, so a registry that fails or refuses costs no
     * inference and forged records cost no registry call. The answer is remembered per topic: a
     * success for good, a failure for {@link #SCHEMA_RETRY} (so a refusing subject costs one
     * registry call per topic per interval, not one per record). On a failure the record waits
     * (the registry failed) or becomes one {@code undeliverable} dead letter (it refused).
     */
    private boolean responseSchemaReady(String bufferKey, BufferedRecord rec, String source, String responseTopic,
                                        Counts counts) {
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
            waitFor(bufferKey, "registry", failed.error(), counts);
        } else {
            deadLetter(bufferKey, rec, source, ErrorCode.UNDELIVERABLE, "the registry refuses the response schema for "
                    + responseTopic + " (HTTP " + failed.error().httpStatus() + ")", counts);
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

    private void send(String bufferKey, String requestId, String topic, byte[] bytes, String replayKey, Counts counts) {
        context.forward(new Record<>(requestId, new Outgoing(topic, bytes), context.currentSystemTimeMs()),
                InferenceTopology.RESPONSE_SINK);
        if (replayKey != null) {
            answered.put(replayKey, context.currentSystemTimeMs());
        }
        done(bufferKey, counts);
    }

    private void deadLetter(String bufferKey, BufferedRecord rec, String source, ErrorCode reason, String message,
                            Counts counts) {
        OptionalInt limit;
        try {
            limit = topics.maxValueBytes(config.dlqTopic());
        } catch (TopicDirectory.TopicDirectoryUnavailableException e) {
            waitFor(bufferKey, "cluster", e, counts);
            return;
        }
        if (limit.isEmpty()) {
            // checked at start; deleted since: keep the record until an operator restores the topic
            LOG.error("dlq.missing topic={} reason={}", config.dlqTopic(), reason.code());
            waitFor(bufferKey, "dlq_topic", null, counts);
            return;
        }
        emitDeadLetter(rec.key(), rec.value(), limit.getAsInt(), source, reason, message);
        if (reason == ErrorCode.REPLAYED) {
            counts.replays++;
        } else {
            counts.dead++;
        }
        done(bufferKey, counts);
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
    }

    private void done(String bufferKey, Counts counts) {
        buffer.delete(bufferKey);
        waitingSince.remove(bufferKey);
        keyWaitSince.remove(bufferKey);
        counts.done++;
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
     * Keeps the record buffered for the next flush. A record that has waited for the registry
     * longer than max-request-age (it would be refused as expired by then anyway) becomes one dead
     * letter: a registry that keeps failing on one schema id cannot hold a record forever. Waits
     * for the cluster have no such bound, because a dead letter needs the cluster too.
     */
    private void waitFor(String bufferKey, String what, Exception e, Counts counts) {
        long now = context.currentSystemTimeMs();
        long since = "registry".equals(what) ? waitingSince.computeIfAbsent(bufferKey, k -> now) : now;
        if (now - since > opener.maxRequestAge().toMillis()) {
            deadLetter(bufferKey, BufferedRecord.decode(buffer.get(bufferKey)), sourceOf(bufferKey),
                    ErrorCode.UNDELIVERABLE, "the schema registry failed on this record for longer than max-request-age ("
                            + (e == null ? "-" : e.getClass().getSimpleName()) + ")", counts);
            return;
        }
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
        return String.format("%013d", createdAt) + '\u0000'
                + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(d.digest());
    }

    private static void lengthPrefixed(MessageDigest d, byte[] bytes) {
        d.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
        d.update(bytes);
    }

    private boolean isReplay(String replayKey, Set<String> seenThisFlush) {
        if (replayKey == null) {
            return false;
        }
        return !seenThisFlush.add(replayKey) || answered.get(replayKey) != null;
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
        try (KeyValueIterator<String, Long> it = answered.range(null, String.format("%013d", cutoff))) {
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
        return String.format("%019d\u0000%s\u0000%010d\u0000%019d", nextSequence++, meta.topic(), meta.partition(),
                meta.offset());
    }

    private static long sequenceOf(String bufferKey) {
        return Long.parseLong(bufferKey.substring(0, bufferKey.indexOf('\u0000')));
    }

    private static String topicOf(String bufferKey) {
        return bufferKey.split("\u0000")[1];
    }

    private static String sourceOf(String bufferKey) {
        String[] parts = bufferKey.split("\u0000");
        return parts[1] + "/" + Integer.parseInt(parts[2]) + "@" + Long.parseLong(parts[3]);
    }
}
