package io.sealstream.audit;

import io.sealstream.schemas.v1.AuditEvent;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a producer's audit events to the audit topic as one hash chain, in the order they were
 * taken, keyed by the producer (so one partition holds the whole chain in order).
 *
 * <p>A decision never waits for Kafka: events queue (at most {@link #QUEUE_LIMIT}) and one thread
 * chains and sends them. On its first send it finds the producer's last event on the topic and
 * continues that chain, so a restart does not start a new one. If the queue is full, events are
 * counted and dropped, and the next event written is an {@code audit.dropped} event with that
 * count; an event Kafka never took leaves a gap in the sequence. Either way the chain shows it
 * ({@link AuditChainCheck}).
 */
public final class KafkaAuditSink implements AuditSink {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaAuditSink.class);
    public static final int QUEUE_LIMIT = 10_000;
    /** Events handed to the producer and not yet acknowledged, at most: beyond, the queue holds them. */
    private static final int IN_FLIGHT_LIMIT = 1_000;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    private record Pending(Instant time, String type, Map<String, String> attributes) {
    }

    private final String producerName;
    private final AuditTopic topic;
    private final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(QUEUE_LIMIT);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong droppedTotal = new AtomicLong();
    private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(IN_FLIGHT_LIMIT);
    private final Thread sender;
    /** No more events are taken; those queued are still written. */
    private volatile boolean closing;
    /** The close wait passed: the sender gives up on what is left. */
    private volatile boolean abandoned;

    /** A sink for {@code producerName} (e.g. {@code key-broker/<instance>}) on {@code topic}. */
    public KafkaAuditSink(String producerName, AuditTopic topic) {
        this.producerName = producerName;
        this.topic = topic;
        this.sender = new Thread(this::run, "sealstream-audit-sender");
        sender.setDaemon(true);
        sender.start();
    }

    @Override
    public void accept(Instant time, String type, Map<String, String> attributes) {
        if (closing || !queue.offer(new Pending(time, type, Map.copyOf(attributes)))) {
            droppedTotal.incrementAndGet();
            long n = dropped.incrementAndGet();
            if (n == 1 || n % 1000 == 0) {
                LOG.error("audit.queue_full dropped={} topic={} remedy=\"make the audit topic writable; the chain will "
                        + "show the loss as an audit.dropped event\"", n, topic.name());
            }
        }
    }

    @Override
    public long written() {
        return written.get();
    }

    /** Events waiting: in the queue, or with the producer and not yet acknowledged. */
    @Override
    public long queued() {
        return queue.size() + (IN_FLIGHT_LIMIT - inFlight.availablePermits());
    }

    @Override
    public long dropped() {
        return droppedTotal.get();
    }

    private void run() {
        KafkaProducer<String, AuditEvent> producer;
        try {
            producer = retrying("audit.producer_failed", () -> topic.producer(producerName));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (producer == null) {
            return; // abandoned before a producer could be made: the queued events stay in the log only
        }
        try {
            AuditChain chain = resume();
            if (chain == null) {
                return; // abandoned before Kafka answered: the queued events stay in the log only
            }
            LOG.info("audit.chain.resumed producer={} next_sequence={}", producerName, chain.nextSequence());
            while (!closing || !queue.isEmpty()) {
                Pending p = queue.poll(200, TimeUnit.MILLISECONDS);
                long lost = dropped.getAndSet(0);
                if (lost > 0) {
                    send(producer, chain.next(Instant.now(), "audit.dropped", Map.of("events", Long.toString(lost))));
                }
                if (p != null) {
                    send(producer, chain.next(p.time(), p.type(), p.attributes()));
                }
            }
            producer.flush(); // waits for every acknowledgement; close() interrupts it after its wait
        } catch (InterruptedException | org.apache.kafka.common.errors.InterruptException e) {
            Thread.currentThread().interrupt(); // abandoned by close(), which logs what was left
        } catch (RuntimeException e) {
            // the class only: a library's message may carry a URL with credentials in it
            LOG.error("audit.sender.failed topic={} error={} remedy=\"restart the key broker; its chain resumes from the "
                    + "topic\"", topic.name(), e.getClass().getSimpleName());
        } finally {
            // nothing left to wait for after a flush; after an abandon, what Kafka has not taken is given up
            producer.close(Duration.ZERO);
        }
    }

    /**
     * Hands {@code event} to the producer, retrying while the producer refuses it at once (the
     * registry unreachable for the serializer, say): a chained event is never skipped, or its
     * sequence would show a gap that no loss caused.
     */
    private void send(KafkaProducer<String, AuditEvent> producer, AuditEvent event) throws InterruptedException {
        inFlight.acquire(); // a cluster that does not acknowledge holds the rest in the queue, where queued() sees them
        try {
            Boolean handed = retrying("audit.send_refused sequence=" + event.getSequence(), () -> {
                producer.send(AuditTopic.record(topic.name(), event), (meta, error) -> {
                    inFlight.release();
                    if (error == null) {
                        written.incrementAndGet();
                    } else {
                        // a refusal Kafka does not retry (authorization, size): the sequence keeps its gap,
                        // which the chain check reports, and the next event is audit.dropped with the count
                        droppedTotal.incrementAndGet();
                        dropped.incrementAndGet();
                        LOG.error("audit.send_failed producer={} sequence={} type={} error={}", producerName,
                                event.getSequence(), event.getType(), error.getClass().getSimpleName());
                    }
                });
                return Boolean.TRUE;
            });
            if (handed == null) {
                inFlight.release(); // abandoned: never handed over
            }
        } catch (InterruptedException | RuntimeException e) {
            inFlight.release();
            throw e;
        }
    }

    /** The chain after this producer's last event on the topic, retried until Kafka answers; null if abandoned first. */
    private AuditChain resume() throws InterruptedException {
        return retrying("audit.resume_failed", () -> topic.lastEventOf(producerName)
                .map(last -> AuditChain.after(producerName, last)).orElseGet(() -> AuditChain.start(producerName)));
    }

    /** {@code step}'s result, retried with a growing pause (0.2 to 10 s) while it fails; null once abandoned. */
    private <T> T retrying(String event, java.util.function.Supplier<T> step) throws InterruptedException {
        long backoff = 200;
        while (!abandoned) {
            try {
                return step.get();
            } catch (org.apache.kafka.common.errors.InterruptException e) {
                throw new InterruptedException("interrupted: " + event);
            } catch (RuntimeException e) {
                // this module's own refusals say what is wrong and what to do; a library's may carry values
                LOG.warn("{} producer={} error={} retry_ms={}{}", event, producerName, e.getClass().getSimpleName(), backoff,
                        e instanceof IllegalStateException ? " detail=\"" + e.getMessage() + "\"" : "");
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 10_000);
            }
        }
        return null;
    }

    /** Stops taking events, writes those queued (waiting at most 10 s) and closes. */
    @Override
    public void close() {
        closing = true;
        try {
            sender.join(CLOSE_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (sender.isAlive()) {
            abandoned = true;
            sender.interrupt();
            LOG.warn("audit.close.unfinished producer={} queued={}", producerName, queued());
        }
    }
}
