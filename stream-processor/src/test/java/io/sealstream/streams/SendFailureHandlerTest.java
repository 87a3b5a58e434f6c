package io.sealstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A send failure of one record drops that record; a failure of the cluster is retried without loss. */
class SendFailureHandlerTest {
    private final Set<String> existing = ConcurrentHashMap.newKeySet();
    private final SendFailureHandler handler = new SendFailureHandler();

    @BeforeEach
    void setUp() {
        existing.add("sealstream.responses.acme");
        TopicDirectory topics = t -> existing.contains(t) ? OptionalInt.of(1000) : OptionalInt.empty();
        handler.configure(Map.of(SendFailureHandler.TOPIC_DIRECTORY_CONFIG, topics));
    }

    @Test
    void aRecordTooLargeForItsTopicIsDroppedAndTheTaskGoesOn() {
        assertThat(handle("sealstream.responses.acme", new RecordTooLargeException("too large")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
    }

    @Test
    void aTimeoutOnATopicDeletedSinceTheCheckIsDroppedNotRetriedForever() {
        assertThat(handle("sealstream.responses.gone", new TimeoutException("metadata")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
        assertThat(handle("sealstream.responses.gone", new UnknownTopicOrPartitionException("gone")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
    }

    @Test
    void aTimeoutOnAnExistingTopicIsTheClustersAndIsRetried() {
        assertThat(handle("sealstream.responses.acme", new TimeoutException("broker away")))
                .isEqualTo(ProductionExceptionHandlerResponse.RETRY);
        assertThat(handle("sealstream.responses.acme", new NotLeaderOrFollowerException("leader moved")))
                .isEqualTo(ProductionExceptionHandlerResponse.RETRY);
    }

    @Test
    void aFatalErrorFailsTheThreadSoStreamsRecoversFromTheLastCommit() {
        assertThat(handle("sealstream.responses.acme", new AuthorizationException("denied")))
                .isEqualTo(ProductionExceptionHandlerResponse.FAIL);
    }

    private ProductionExceptionHandlerResponse handle(String topic, Exception e) {
        return handler.handle(null, new ProducerRecord<>(topic, new byte[0], new byte[0]), e);
    }
}
