package io.sealstream.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import java.util.regex.Pattern;

/**
 * Makes Sealstream's meters in a registry, only from {@link SealstreamMeter} entries: the kind
 * must match, and the tags must be exactly the entry's keys, in order, with short values of a
 * safe alphabet. A value outside it is a programming error (a tag fed from request data), so it
 * throws rather than recording an unbounded series.
 */
public final class Meters {
    /** Tag values: codes, TEE types, configured model names, partition numbers. */
    private static final Pattern TAG_VALUE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:+-]{0,79}");

    private final MeterRegistry registry;

    private Meters(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Records into {@code registry}. */
    public static Meters of(MeterRegistry registry) {
        return new Meters(registry);
    }

    /** Records nowhere (a registry with no backends): for tests and for an SDK given no registry. */
    public static Meters none() {
        return new Meters(new CompositeMeterRegistry());
    }

    /**
     * An operator-configured name (a model file's name, say) as a tag value: characters outside
     * the tag alphabet become '_' and it is cut to 80. Never for request data, which is no tag.
     */
    public static String label(String configured) {
        String safe = configured.replaceAll("[^A-Za-z0-9_.:+-]", "_");
        if (safe.isEmpty() || !Character.isLetterOrDigit(safe.charAt(0))) {
            safe = "x" + safe;
        }
        return safe.length() > 80 ? safe.substring(0, 80) : safe;
    }

    public Counter counter(SealstreamMeter meter, String... tagValues) {
        check(meter, SealstreamMeter.Kind.COUNTER);
        return Counter.builder(meter.meterName()).description(meter.description()).tags(tags(meter, tagValues))
                .register(registry);
    }

    public Timer timer(SealstreamMeter meter, String... tagValues) {
        if (!meter.kind().isTimer()) {
            throw new IllegalArgumentException(meter + " is not a timer");
        }
        return Timer.builder(meter.meterName()).description(meter.description()).tags(tags(meter, tagValues))
                .publishPercentileHistogram(meter.kind() == SealstreamMeter.Kind.HISTOGRAM_TIMER)
                .register(registry);
    }

    public DistributionSummary summary(SealstreamMeter meter, String... tagValues) {
        check(meter, SealstreamMeter.Kind.SUMMARY);
        // a distribution, as Prometheus buckets from 1 to 4096 (batch sizes, counts of a few thousand at most)
        return DistributionSummary.builder(meter.meterName()).description(meter.description())
                .baseUnit(meter.unit()).tags(tags(meter, tagValues)).publishPercentileHistogram()
                .minimumExpectedValue(1.0).maximumExpectedValue(4096.0).register(registry);
    }

    /** A gauge reading {@code value} of {@code state}, which the registry holds weakly: keep it referenced. */
    public <T> Gauge gauge(SealstreamMeter meter, T state, ToDoubleFunction<T> value, String... tagValues) {
        check(meter, SealstreamMeter.Kind.GAUGE);
        return Gauge.builder(meter.meterName(), state, value).description(meter.description())
                .baseUnit(meter.unit().isEmpty() ? null : meter.unit()).tags(tags(meter, tagValues))
                .strongReference(true).register(registry);
    }

    /** A counter whose total is read from {@code state} (a count kept by code that does not link Micrometer). */
    public <T> FunctionCounter functionCounter(SealstreamMeter meter, T state, ToDoubleFunction<T> total,
                                               String... tagValues) {
        check(meter, SealstreamMeter.Kind.COUNTER);
        return FunctionCounter.builder(meter.meterName(), state, total).description(meter.description())
                .tags(tags(meter, tagValues)).register(registry);
    }

    private static void check(SealstreamMeter meter, SealstreamMeter.Kind kind) {
        if (meter.kind() != kind) {
            throw new IllegalArgumentException(meter + " is not a " + kind.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    static Tags tags(SealstreamMeter meter, String... values) {
        if (values.length != meter.tagKeys().size()) {
            throw new IllegalArgumentException(meter + " takes the tags " + meter.tagKeys() + ", given "
                    + values.length + " values");
        }
        Tags tags = Tags.empty();
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null || !TAG_VALUE.matcher(values[i]).matches()) {
                throw new IllegalArgumentException(meter + ": tag " + meter.tagKeys().get(i)
                        + " takes a short code (letters, digits, _.:+-), not the value given");
            }
            tags = tags.and(meter.tagKeys().get(i), values[i]);
        }
        return tags;
    }
}
