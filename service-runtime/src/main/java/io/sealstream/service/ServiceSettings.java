package io.sealstream.service;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A service's resolved settings ({@link SettingsSchema#load}). Reading a value that does not parse
 * throws a {@link SettingsException} naming the setting and where its value came from.
 */
public final class ServiceSettings {
    record Value(String text, String source) {
    }

    private final SettingsSchema schema;
    private final Map<String, Value> values;

    ServiceSettings(SettingsSchema schema, Map<String, Value> values) {
        this.schema = schema;
        this.values = Map.copyOf(values);
    }

    private Setting declared(Setting s) {
        if (!schema.settings().contains(s)) {
            throw new IllegalArgumentException(s.name() + " is not a setting of the " + schema.service());
        }
        return s;
    }

    /** The value (or the default); empty when neither is set. */
    public Optional<String> optional(Setting s) {
        Value v = values.get(declared(s).name());
        if (v != null && !v.text().isBlank()) {
            return Optional.of(v.text());
        }
        return Optional.ofNullable(s.defaultValue());
    }

    /** The value or the default; a setting with neither is refused, naming {@code why} it is needed now. */
    public String string(Setting s) {
        return optional(s).orElseThrow(() -> new SettingsException(schema.service() + ": the setting " + s.name()
                + " is needed here (" + s.meaning() + "); set it in the config file or as " + schema.envName(s)));
    }

    /** The value as {@code parser} reads it; the parser's IllegalArgumentException refuses it with its message. */
    public <T> T parsed(Setting s, java.util.function.Function<String, T> parser) {
        String text = string(s);
        try {
            return parser.apply(text.strip());
        } catch (IllegalArgumentException e) {
            throw new SettingsException(schema.service() + ": " + s.name() + " (from " + source(s) + ") is not usable: "
                    + e.getMessage());
        }
    }

    public int integer(Setting s, int min, int max) {
        long v = longValue(s, min, max);
        return (int) v;
    }

    public long longValue(Setting s, long min, long max) {
        String text = string(s);
        long v;
        try {
            v = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw invalid(s, "a whole number");
        }
        if (v < min || v > max) {
            throw invalid(s, "a number from " + min + " to " + max);
        }
        return v;
    }

    public double decimal(Setting s, double min) {
        double v;
        try {
            v = Double.parseDouble(string(s).strip());
        } catch (NumberFormatException e) {
            throw invalid(s, "a number");
        }
        if (!(v >= min) || Double.isInfinite(v)) {
            throw invalid(s, "a number of at least " + min);
        }
        return v;
    }

    /** A duration given in milliseconds (the setting's name ends in {@code .ms}), at least {@code min}. */
    public Duration millis(Setting s, Duration min) {
        return Duration.ofMillis(longValue(s, min.toMillis(), Long.MAX_VALUE / 1_000_000));
    }

    public Optional<Path> path(Setting s) {
        return optional(s).map(Path::of);
    }

    /** One of {@code choices} (compared without regard to case), returned in the choices' spelling. */
    public String choice(Setting s, String... choices) {
        String v = string(s).strip();
        return Arrays.stream(choices).filter(c -> c.equalsIgnoreCase(v)).findFirst()
                .orElseThrow(() -> invalid(s, "one of " + String.join(", ", choices)));
    }

    /** A comma-separated list, blanks dropped. */
    public List<String> list(Setting s) {
        return optional(s).map(v -> Arrays.stream(v.split(",")).map(String::strip).filter(x -> !x.isEmpty()).toList())
                .orElse(List.of());
    }

    /** Every key of a pass-through group, without the group's prefix: {@code streams.a.b=1} gives {@code a.b=1}. */
    public Map<String, String> passThrough(String group) {
        Map<String, String> out = new LinkedHashMap<>();
        values.entrySet().stream().filter(e -> schema.passThroughGroup(e.getKey()).filter(group::equals).isPresent())
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> out.put(e.getKey().substring(group.length() + 1), e.getValue().text()));
        return out;
    }

    /** Where a setting's value came from, for messages (never the value itself). */
    public String source(Setting s) {
        Value v = values.get(declared(s).name());
        return v == null ? "the default" : v.source();
    }

    /**
     * A refusal for a value that has the wrong form. The value is not repeated: a misplaced secret
     * would otherwise end up in a log.
     */
    public SettingsException invalid(Setting s, String expected) {
        return new SettingsException(schema.service() + ": the setting " + s.name() + " (from " + source(s)
                + ") must be " + expected + " (" + s.meaning() + ")");
    }
}
