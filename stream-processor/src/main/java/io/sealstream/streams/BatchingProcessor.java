package io.sealstream.streams;

import io.sealstream.envelope.EnvelopeException;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.envelope.OpenedRequest;
import io.sealstream.envelope.ReasonCode;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
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
 * deletes, outputs and input offsets commit in one Kafka transaction (exactly_once_v2), so a crash
 * at any point neither loses a request nor answers one twice.
 */
final class BatchingProcessor implements Processor<String, byte[], String, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(BatchingProcessor.class);
    static final String ENGINE_FAILURE = "engine_failure";
    static final String INVALID_RESPONSE_TOPIC = "invalid_response_topic";

    private final RequestOpener opener;
    private final BatchHandler handler;
    private final Deserializer<EncryptedRequest> deserializer;
    private final int maxBatchSize;
    private final Duration linger;
    private ProcessorContext<String, Object> context;
    private KeyValueStore<String, byte[]> buffer;
    private int buffered;
    private long firstBufferedAt;

    BatchingProcessor(RequestOpener opener, BatchHandler handler, Deserializer<EncryptedRequest> deserializer,
                      int maxBatchSize, Duration linger) {
        this.opener = opener;
        this.handler = handler;
        this.deserializer = deserializer;
        this.maxBatchSize = maxBatchSize;
        this.linger = linger;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
        this.context = context;
        this.buffer = context.getStateStore(InferenceTopology.BUFFER_STORE);
        try (KeyValueIterator<String, byte[]> it = buffer.all()) {
            while (it.hasNext()) {
                it.next();
                buffered++;
            }
        }
        if (buffered > 0) {
            // restored after a crash or a rebalance: flush at the next linger tick
            firstBufferedAt = context.currentSystemTimeMs();
            LOG.info("batch.restored task={} buffered={}", context.taskId(), buffered);
        }
        long tick = Math.max(1, linger.toMillis() / 2);
        context.schedule(Duration.ofMillis(tick), PunctuationType.WALL_CLOCK_TIME, this::onTick);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        buffer.put(bufferKey(meta), BufferedRecord.encode(record.key(), record.value()));
        if (buffered++ == 0) {
            firstBufferedAt = context.currentSystemTimeMs();
        }
        if (buffered >= maxBatchSize) {
            flush();
        }
    }

    private void onTick(long now) {
        if (buffered > 0 && now - firstBufferedAt >= linger.toMillis()) {
            flush();
        }
    }

    private void flush() {
        long started = System.nanoTime();
        List<KeyValue<String, byte[]>> entries = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = buffer.all()) {
            it.forEachRemaining(entries::add);
        }
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        List<OpenedRequest> opened = new ArrayList<>();
        int dead = 0;
        int refused = 0;
        for (KeyValue<String, byte[]> entry : entries) {
            BufferedRecord rec = BufferedRecord.decode(entry.value);
            String source = sourceOf(entry.key);
            EncryptedRequest request;
            try {
                request = deserializer.deserialize(topicOf(entry.key), rec.value());
            } catch (SerializationException e) {
                deadLetter(rec, source, ReasonCode.MALFORMED.code(), e.getMessage());
                dead++;
                continue;
            }
            try {
                OpenedRequest o = opener.open(topicOf(entry.key), request);
                if (!o.responseTopic().equals(EnvelopeProtocol.responseTopicFor(o.clientId()))) {
                    answer(o.sealError(INVALID_RESPONSE_TOPIC, "the response topic must be "
                            + EnvelopeProtocol.responseTopicFor(o.clientId()) + "; re-send with that response topic",
                            now));
                    refused++;
                    continue;
                }
                opened.add(o);
            } catch (EnvelopeException e) {
                if (e.responder().isPresent()) {
                    // it authenticated, so the client is known: tell it, under its response key
                    answer(e.responder().get().sealError("", e.reason().code(), e.getMessage(), now));
                    refused++;
                } else {
                    deadLetter(rec, source, e.reason().code(), e.getMessage());
                    dead++;
                }
            }
        }
        List<EncryptedResponse> answers = infer(opened, now);
        answers.forEach(this::answer);
        entries.forEach(e -> buffer.delete(e.key));
        buffered = 0;
        LOG.info("batch.flushed task={} records={} inferred={} refused={} dead_lettered={} ms={}",
                context.taskId(), entries.size(), opened.size(), refused, dead,
                (System.nanoTime() - started) / 1_000_000);
    }

    /** Runs the batch; if the handler fails, runs each request alone so only the failing ones get errors. */
    private List<EncryptedResponse> infer(List<OpenedRequest> batch, Instant now) {
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
            List<EncryptedResponse> sealed = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
                sealed.add(seal(batch.get(i), results.get(i), now));
            }
            return sealed;
        } catch (Exception e) {
            LOG.warn("batch.handler.failed task={} size={} error={} retrying=one_by_one",
                    context.taskId(), batch.size(), e.getClass().getSimpleName());
        }
        List<EncryptedResponse> sealed = new ArrayList<>();
        for (OpenedRequest o : batch) {
            try {
                List<InferenceResponse> one = handler.handle(List.of(o.request()));
                if (one == null || one.size() != 1) {
                    throw new IllegalStateException("the batch handler returned no single result");
                }
                sealed.add(seal(o, one.get(0), now));
            } catch (Exception e) {
                LOG.warn("request.handler.failed task={} request_id={} error={}",
                        context.taskId(), o.requestId(), e.getClass().getSimpleName());
                sealed.add(o.sealError(ENGINE_FAILURE, "the inference engine failed on this request ("
                        + e.getClass().getSimpleName() + "); retry it, and report it if it persists", now));
            }
        }
        return sealed;
    }

    private static EncryptedResponse seal(OpenedRequest o, InferenceResponse result, Instant now) {
        try {
            return o.sealResponse(result, now);
        } catch (RuntimeException e) {
            return o.sealError(ENGINE_FAILURE, "the inference engine returned an invalid result ("
                    + e.getClass().getSimpleName() + "); report it to the operator", now);
        }
    }

    private void answer(EncryptedResponse response) {
        context.forward(new Record<String, Object>(response.getRequestId(), response, context.currentSystemTimeMs()),
                InferenceTopology.RESPONSE_SINK);
    }

    private void deadLetter(BufferedRecord rec, String source, String reason, String message) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(DeadLetters.REASON_HEADER, reason.getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetters.MESSAGE_HEADER, String.valueOf(message).getBytes(StandardCharsets.UTF_8));
        headers.add(DeadLetters.SOURCE_HEADER, source.getBytes(StandardCharsets.UTF_8));
        context.forward(new Record<String, Object>(rec.key(), rec.value(), context.currentSystemTimeMs(), headers),
                InferenceTopology.DLQ_SINK);
        LOG.warn("request.dead_lettered source={} reason={}", source, reason);
    }

    /** Buffer keys sort by source topic, partition and offset; the topic comes first, up to a NUL. */
    private static String bufferKey(RecordMetadata meta) {
        return String.format("%s\u0000%010d\u0000%019d", meta.topic(), meta.partition(), meta.offset());
    }

    private static String topicOf(String bufferKey) {
        return bufferKey.substring(0, bufferKey.indexOf('\u0000'));
    }

    private static String sourceOf(String bufferKey) {
        String[] parts = bufferKey.split("\u0000");
        return parts[0] + "/" + Integer.parseInt(parts[1]) + "@" + Long.parseLong(parts[2]);
    }
}
