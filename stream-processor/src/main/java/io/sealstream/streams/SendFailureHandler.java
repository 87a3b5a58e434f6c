package io.sealstream.streams;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells a send failure that belongs to one record from one that belongs to the cluster. The
 * batcher checks each record's topic and size before it sends, so a per-record failure here means
 * a race: the topic was deleted or its {@code max.message.bytes} lowered since the check. Under
 * exactly-once any failed send aborts the transaction, so nothing is lost either way: the handler
 * makes the topic directory forget what it knew of that topic and lets the task re-run from its
 * last commit, where the batcher's checks, asked afresh, turn the record into an error answer or
 * a dead letter, so the same record cannot fail again and again. Failures of the cluster
 * (retriable errors: leader moves, a broker restarting) are retried; anything else fails the
 * thread so Kafka Streams recovers the task from its last commit. The handler never blocks: it
 * runs on the producer's I/O thread.
 */
public final class SendFailureHandler implements ProductionExceptionHandler {
    /** Config key under which the stream processor passes its {@link TopicDirectory}. */
    public static final String TOPIC_DIRECTORY_CONFIG = "sealstream.topic.directory";
    private static final Logger LOG = LoggerFactory.getLogger(SendFailureHandler.class);

    private TopicDirectory directory;

    @Override
    public void configure(Map<String, ?> configs) {
        Object d = configs.get(TOPIC_DIRECTORY_CONFIG);
        this.directory = d instanceof TopicDirectory td ? td : null;
    }

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
                                                     Exception exception) {
        if (isPerRecord(exception)) {
            if (directory != null) {
                directory.forget(record.topic());
            }
            LOG.error("record.send_failed.rechecking topic={} error={} task={}", record.topic(),
                    exception.getClass().getSimpleName(), context == null ? "?" : context.taskId());
            return ProductionExceptionHandlerResponse.CONTINUE;
        }
        if (exception instanceof RetriableException) {
            LOG.warn("record.send_failed.retrying topic={} error={}", record.topic(), exception.getClass().getSimpleName());
            return ProductionExceptionHandlerResponse.RETRY;
        }
        LOG.error("record.send_failed.fatal topic={} error={}", record.topic(), exception.getClass().getSimpleName());
        return ProductionExceptionHandlerResponse.FAIL;
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context,
            ProducerRecord record, Exception exception, SerializationExceptionOrigin origin) {
        // the batcher serializes its own output; a failure here concerns one record only
        LOG.error("record.serialization_failed.dropped topic={} origin={} error={}", record.topic(), origin,
                exception.getClass().getSimpleName());
        return ProductionExceptionHandlerResponse.CONTINUE;
    }

    /**
     * Failures that concern the record's topic rather than the cluster: too large for it, no
     * longer a topic, or a wait for its metadata that timed out (how a deleted topic shows).
     */
    private static boolean isPerRecord(Exception e) {
        return e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidTopicException || e instanceof UnknownTopicOrPartitionException
                || e instanceof TimeoutException;
    }
}
