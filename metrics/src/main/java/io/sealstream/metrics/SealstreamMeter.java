package io.sealstream.metrics;

import java.util.List;
import java.util.Locale;

/**
 * Every metric Sealstream records, in one place: its name, kind, unit, tags and what it
 * measures. Code makes meters only through {@link Meters}, from an entry here, so a name, a
 * kind or a tag cannot drift from what the docs, the Prometheus rules and the dashboard use (all
 * three are checked against this type).
 *
 * <p>No tag carries request data or a value a client chooses: tags are codes of
 * {@code ErrorCode}, TEE types, model names the operator configured and partition numbers, so
 * every tag has a bounded set of values. Client ids are not tags.
 */
public enum SealstreamMeter {
    // the worker's stream processor: one count per request by how it ended, and where its time went
    WORKER_REQUESTS(Component.WORKER, Kind.COUNTER, "sealstream.worker.requests", "",
            "Requests a worker ended, by outcome (answered; error: an encrypted error sent to the client; "
                    + "dead_letter: one DLQ record) and code (the error code or dead-letter reason, none for an answer).",
            "outcome", "code"),
    WORKER_REQUEST_TIME(Component.WORKER, Kind.HISTOGRAM_TIMER, "sealstream.worker.request", "seconds",
            "Time from a request's arrival at the worker to its answer (or error) being handed to the producer; "
                    + "the answer reaches the client at the next commit."),
    WORKER_QUEUE_WAIT(Component.WORKER, Kind.TIMER, "sealstream.worker.queue.wait", "seconds",
            "Time a request waited at the worker between its arrival and the start of the engine batch that holds it "
                    + "(the batch's linger and any batch ahead of it)."),
    WORKER_BATCH_LINGER(Component.WORKER, Kind.TIMER, "sealstream.worker.batch.linger", "seconds",
            "The share of the batch linger in an engine batch's wait: from its oldest request's arrival to its "
                    + "start, at most the configured linger (a longer wait is the engine busy with earlier batches)."),
    WORKER_INFERENCE(Component.WORKER, Kind.TIMER, "sealstream.worker.inference", "seconds",
            "Time the engine took per batch."),
    WORKER_BATCH_SIZE(Component.WORKER, Kind.SUMMARY, "sealstream.worker.batch.size", "requests",
            "Requests per engine batch, as a distribution (buckets from 1 to 4096)."),
    WORKER_OPEN(Component.WORKER, Kind.TIMER, "sealstream.worker.open", "seconds",
            "Time to check and decrypt one request (envelope open, session key from the cache or unwrapped)."),
    WORKER_SEAL(Component.WORKER, Kind.TIMER, "sealstream.worker.seal", "seconds",
            "Time to encrypt one answer or error for its client."),
    WORKER_SESSION_KEYS(Component.WORKER, Kind.COUNTER, "sealstream.worker.session.keys", "",
            "Session-key cache lookups by result (hit: the DEK was unwrapped before; miss: unwrapped now).",
            "result"),
    WORKER_CONSUMER_LAG(Component.WORKER, Kind.GAUGE, "sealstream.worker.consumer.lag", "records",
            "Records not yet read by this worker, summed over the request topics, per partition number it owns.",
            "partition"),
    WORKER_LEASE_REMAINING(Component.WORKER, Kind.GAUGE, "sealstream.worker.lease.remaining", "seconds",
            "Seconds until the worker's key-broker lease expires (it renews well before; near zero means "
                    + "renewal fails)."),
    ENGINE_ITEMS(Component.WORKER, Kind.COUNTER, "sealstream.engine.items", "",
            "Items the engine computed (texts embedded or prompts answered), by model.", "model"),
    ENGINE_TOKENS(Component.WORKER, Kind.COUNTER, "sealstream.engine.tokens", "",
            "Tokens the engine processed, by model and kind (prompt or completion).", "model", "kind"),
    ENGINE_MODEL_LOAD(Component.WORKER, Kind.GAUGE, "sealstream.engine.model.load", "seconds",
            "Seconds the model took to load at the worker's start, by model.", "model"),

    // the key broker: every decision it takes is counted, by result and failure code
    BROKER_ATTESTATIONS(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.attestations", "",
            "Worker attestations, by result (accepted or denied) and code (the failure code, none when accepted).",
            "result", "code"),
    BROKER_RELEASES(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.releases", "",
            "Topic key releases to attested workers, by result (granted or denied) and code (none when granted).",
            "result", "code"),
    BROKER_ROTATIONS(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.rotations", "",
            "Topic key rotations, by reason (scheduled, or forced by a policy change).", "reason"),
    BROKER_RETIREMENTS(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.retirements", "",
            "Demoted topic keys retired after their grace period."),
    BROKER_LEASE_EXPIRIES(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.lease.expiries", "",
            "Worker leases that expired unrenewed and were presented afterwards (the worker must attest again)."),
    BROKER_POLICY_CHANGES(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.policy.changes", "",
            "Policy changes the key broker applied."),
    BROKER_OLDEST_PRIMARY_KEY_AGE(Component.KEY_BROKER, Kind.GAUGE, "sealstream.keybroker.primary.key.age", "seconds",
            "Age of the oldest primary topic key; above the rotation period (plus the time a rotation takes), "
                    + "rotation is overdue."),
    BROKER_ROTATION_PERIOD(Component.KEY_BROKER, Kind.GAUGE, "sealstream.keybroker.rotation.period", "seconds",
            "The configured topic key rotation period, so alert rules compare the key age with it."),
    BROKER_AUDIT_EVENTS(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.audit.events", "",
            "Audit events of the key broker's chain the audit topic acknowledged since the broker started; "
                    + "'sealstream audit verify' shows at least as many after the start (fewer: a tail was removed)."),
    BROKER_AUDIT_QUEUED(Component.KEY_BROKER, Kind.GAUGE, "sealstream.keybroker.audit.queued", "",
            "Audit events waiting for the audit topic; above zero for minutes, the topic is unwritable (Kafka, the "
                    + "registry or the key broker's ACL) and events are dropped once 10,000 wait."),
    BROKER_AUDIT_DROPPED(Component.KEY_BROKER, Kind.COUNTER, "sealstream.keybroker.audit.dropped", "",
            "Audit events dropped because the queue to the audit topic was full (Kafka unreachable for long); the "
                    + "chain records the count as an audit.dropped event."),

    // the client SDK, into the registry its caller gives (none by default)
    CLIENT_REQUEST_TIME(Component.CLIENT, Kind.HISTOGRAM_TIMER, "sealstream.client.request", "seconds",
            "End-to-end time of a request as the client sees it, from sealing to the opened answer (or the "
                    + "failure), by outcome (answered, rejected: an error answer, timeout, failed: not delivered or "
                    + "the listener stopped).", "outcome"),
    CLIENT_SEAL(Component.CLIENT, Kind.TIMER, "sealstream.client.seal", "seconds",
            "Time to seal one request (session key, AEAD)."),
    CLIENT_OPEN(Component.CLIENT, Kind.TIMER, "sealstream.client.open", "seconds",
            "Time to open one genuine answer."),
    CLIENT_RESPONSES_DROPPED(Component.CLIENT, Kind.COUNTER, "sealstream.client.responses.dropped", "",
            "Records on the client's response topic it did not accept, by reason (duplicate: the request was "
                    + "already answered or is not pending; forged: it did not open under the request's session).",
            "reason");

    /** The process that records a meter. */
    public enum Component { WORKER, KEY_BROKER, CLIENT }

    /**
     * How a meter is recorded, which decides its series in a Prometheus scrape. A counter is
     * incremented where the event happens or read from a count kept elsewhere; a scrape cannot tell.
     */
    public enum Kind {
        COUNTER, TIMER, HISTOGRAM_TIMER, SUMMARY, GAUGE;

        boolean isTimer() {
            return this == TIMER || this == HISTOGRAM_TIMER;
        }
    }

    private final Component component;
    private final Kind kind;
    private final String meterName;
    private final String unit;
    private final String description;
    private final List<String> tagKeys;

    SealstreamMeter(Component component, Kind kind, String meterName, String unit, String description,
                    String... tagKeys) {
        this.component = component;
        this.kind = kind;
        this.meterName = meterName;
        this.unit = unit;
        this.description = description;
        this.tagKeys = List.of(tagKeys);
    }

    public Component component() {
        return component;
    }

    public Kind kind() {
        return kind;
    }

    /** Micrometer's (dotted) name. */
    public String meterName() {
        return meterName;
    }

    /** Base unit ({@code seconds}, {@code records}, ...), empty for a plain count. */
    public String unit() {
        return unit;
    }

    public String description() {
        return description;
    }

    /** The tag keys, each of which every recording of this meter sets. */
    public List<String> tagKeys() {
        return tagKeys;
    }

    /**
     * The metric's name in a Prometheus scrape: counters end in {@code _total}; timers in
     * {@code _seconds} (with {@code _count}, {@code _sum}, {@code _max} and, for a histogram,
     * {@code _bucket} series); gauges and summaries in their unit (summaries have buckets too).
     */
    public String prometheusName() {
        String base = meterName.replace('.', '_');
        if (kind == Kind.COUNTER) {
            return base + "_total";
        }
        return unit.isEmpty() ? base : base + "_" + unit;
    }

    /** The series a scrape of a process that recorded this meter holds. */
    public List<String> prometheusSeries() {
        String name = prometheusName();
        if (kind == Kind.HISTOGRAM_TIMER || kind == Kind.SUMMARY) {
            return List.of(name + "_count", name + "_sum", name + "_max", name + "_bucket");
        }
        if (kind == Kind.TIMER) {
            return List.of(name + "_count", name + "_sum", name + "_max");
        }
        return List.of(name);
    }

    /** The entry whose Prometheus name is {@code name} or one of its series, if any. */
    public static java.util.Optional<SealstreamMeter> ofPrometheusSeries(String name) {
        for (SealstreamMeter m : values()) {
            if (m.prometheusSeries().contains(name)) {
                return java.util.Optional.of(m);
            }
        }
        return java.util.Optional.empty();
    }

    /** The catalogue as the Markdown table docs/observability.md holds (checked by a test). */
    public static String markdown() {
        StringBuilder b = new StringBuilder("| metric (Prometheus) | kind | labels | recorded by | what it measures |\n")
                .append("|---|---|---|---|---|\n");
        for (SealstreamMeter m : values()) {
            b.append("| `").append(m.prometheusName()).append("` | ")
                    .append(m.kind.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" | ")
                    .append(m.tagKeys.isEmpty() ? "" : "`" + String.join("`, `", m.tagKeys) + "`").append(" | ")
                    .append(m.component.name().toLowerCase(Locale.ROOT).replace('_', ' ')).append(" | ")
                    .append(m.description).append(" |\n");
        }
        return b.toString().strip();
    }

    @Override
    public String toString() {
        return meterName + " (" + kind.name().toLowerCase(Locale.ROOT) + ")";
    }
}
