package io.sealstream.streams;

import java.util.Map;
import java.util.OptionalInt;
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
 * batcher checks size and topic before it sends, so a per-record failure here means a race (a
 * topic deleted or shrunk since the check); that record is dropped and logged with its key, and
 * the task goes on: one record cannot fail the stream thread again and again. Failures of the
 * cluster (retriable errors: leader moves, timeouts, a broker restarting) are retried without
 * loss; anything else fails the thread so Kafka Streams recovers the task from its last commit.
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
        if (isPerRecord(record.topic(), exception)) {
            LOG.error("record.send_failed.dropped topic={} error={} task={}", record.topic(),
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

    private boolean isPerRecord(String topic, Exception e) {
        if (e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException
                || e instanceof InvalidTopicException) {
            return true;
        }
        if (e instanceof UnknownTopicOrPartitionException || e instanceof TimeoutException) {
            // a missing topic shows as either; ask the cluster afresh whether it still exists
            return directory != null && !exists(topic);
        }
        return false;
    }

    private boolean exists(String topic) {
        try {
            directory.forget(topic);
            OptionalInt limit = directory.maxValueBytes(topic);
            return limit.isPresent();
        } catch (TopicDirectory.TopicDirectoryUnavailableException unknown) {
            return true; // cannot tell: treat it as the cluster's problem and retry
        }
    }
}
