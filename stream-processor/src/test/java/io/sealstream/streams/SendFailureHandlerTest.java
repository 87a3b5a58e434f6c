package io.sealstream.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A send failure of one record makes the directory forget that topic, so the re-run's checks turn
 * the record into an error or a dead letter; a failure of the cluster is retried.
 */
class SendFailureHandlerTest {
    private final List<String> forgotten = new CopyOnWriteArrayList<>();
    private final SendFailureHandler handler = new SendFailureHandler();

    @BeforeEach
    void setUp() {
        TopicDirectory topics = new TopicDirectory() {
            @Override
            public OptionalInt maxValueBytes(String topic) {
                throw new AssertionError("the handler runs on the producer's I/O thread and must not ask the cluster");
            }

            @Override
            public void forget(String topic) {
                forgotten.add(topic);
            }
        };
        handler.configure(Map.of(SendFailureHandler.TOPIC_DIRECTORY_CONFIG, topics));
    }

    @Test
    void aRecordTooLargeForItsTopicMakesTheTopicBeAskedAfresh() {
        assertThat(handle("sealstream.responses.acme", new RecordTooLargeException("too large")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
        assertThat(forgotten).containsExactly("sealstream.responses.acme");
    }

    @Test
    void aTopicThatVanishedMakesTheTopicBeAskedAfreshInsteadOfBeingRetriedForever() {
        assertThat(handle("sealstream.responses.gone", new TimeoutException("metadata")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
        assertThat(handle("sealstream.responses.gone", new UnknownTopicOrPartitionException("gone")))
                .isEqualTo(ProductionExceptionHandlerResponse.CONTINUE);
        assertThat(forgotten).containsExactly("sealstream.responses.gone", "sealstream.responses.gone");
    }

    @Test
    void aFailureOfTheClusterIsRetried() {
        assertThat(handle("sealstream.responses.acme", new NotLeaderOrFollowerException("leader moved")))
                .isEqualTo(ProductionExceptionHandlerResponse.RETRY);
        assertThat(forgotten).isEmpty();
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
