package io.sealstream.service;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The settings one service reads, in one place: each service declares its schema once, and its
 * loader, its {@code --help}, docs/configuration.md and the deployment manifests follow from it.
 *
 * <p>A value comes from, in order of precedence: an override (a command-line {@code --set}), the
 * environment ({@code <PREFIX><NAME>}, the name upper-cased with dots as underscores, e.g.
 * {@code SEALSTREAM_WORKER_KAFKA_BOOTSTRAP_SERVERS}), the config file (Java properties), the
 * default. An unknown key in the file or an unknown variable with the service's prefix is refused
 * rather than ignored: a misspelt setting would otherwise fall back to its default unnoticed.
 * Blank variables and the ones Kubernetes' service links inject are not settings and are skipped.
 *
 * <p>Pass-through groups ({@code streams.} for Kafka Streams) hand every key below them to the
 * library unchanged; from the environment, the underscores after the group become dots.
 */
public final class SettingsSchema {
    private final String service;
    private final String envPrefix;
    private final Map<String, Setting> settings = new LinkedHashMap<>();
    private final Map<String, String> passThrough = new LinkedHashMap<>();

    private SettingsSchema(String service, String envPrefix) {
        this.service = service;
        this.envPrefix = envPrefix;
    }

    /**
     * A schema for {@code service} (as it names itself in messages, e.g. "worker"), whose
     * environment variables start with {@code envPrefix} (e.g. {@code SEALSTREAM_WORKER_}).
     */
    public static SettingsSchema of(String service, String envPrefix, Setting... settings) {
        if (!envPrefix.matches("[A-Z][A-Z0-9_]*_")) {
            throw new IllegalArgumentException("an environment prefix is upper case and ends in '_', got " + envPrefix);
        }
        SettingsSchema schema = new SettingsSchema(service, envPrefix);
        for (Setting s : settings) {
            if (isServiceLink(schema.envName(s).substring(envPrefix.length()))) {
                throw new IllegalArgumentException("setting " + s.name() + " would be read from a variable that Kubernetes "
                        + "sets for Services; name it otherwise (for example http.port)");
            }
            if (schema.settings.putIfAbsent(s.name(), s) != null) {
                throw new IllegalArgumentException("setting declared twice: " + s.name());
            }
        }
        return schema;
    }

    /** {@code groups} in order as one array, for {@link #of}: a service's own settings around shared groups. */
    @SafeVarargs
    public static Setting[] settings(List<Setting>... groups) {
        return java.util.Arrays.stream(groups).flatMap(List::stream).toArray(Setting[]::new);
    }

    /** Adds a pass-through group: keys {@code <prefix>.*} go to a library as they are (described once). */
    public SettingsSchema passThrough(String prefix, String description) {
        if (settings.keySet().stream().anyMatch(n -> n.startsWith(prefix + "."))) {
            throw new IllegalArgumentException("pass-through group " + prefix + " overlaps a declared setting");
        }
        passThrough.put(prefix, description);
        return this;
    }

    public String service() {
        return service;
    }

    public List<Setting> settings() {
        return List.copyOf(settings.values());
    }

    /**
     * The console line for a refusal: {@code sealstream <service>: <message>}, the service named
     * once even where the message (a {@link SettingsException}'s) already starts with it.
     */
    public String refusalLine(String message) {
        String own = service + ": ";
        return "sealstream " + own + (message.startsWith(own) ? message.substring(own.length()) : message);
    }

    /** The environment variable that sets {@code setting}. */
    public String envName(Setting setting) {
        return envPrefix + setting.name().toUpperCase(Locale.ROOT).replace('.', '_');
    }

    /**
     * Reads the settings: {@code file} (null: none), then {@code env} (usually {@link System#getenv()}),
     * then {@code overrides}; checks that every key is known and every required setting present.
     *
     * @throws SettingsException naming the setting and its source
     */
    public ServiceSettings load(Path file, Map<String, String> env, Map<String, String> overrides) {
        Map<String, ServiceSettings.Value> values = new LinkedHashMap<>();
        if (file != null) {
            readFile(file).forEach((k, v) -> values.put(k, new ServiceSettings.Value(v, file.getFileName() + " (" + k + ")")));
        }
        env.forEach((name, v) -> {
            // a blank variable (compose's ${UNSET}) sets nothing: it must not hide the file's value
            if (name.startsWith(envPrefix) && !v.isBlank() && !isServiceLink(name.substring(envPrefix.length()))) {
                values.put(keyOfEnv(name), new ServiceSettings.Value(v.strip(), "environment variable " + name));
            }
        });
        overrides.forEach((k, v) -> {
            check(k, "--set " + k);
            values.put(k, new ServiceSettings.Value(v, "--set " + k));
        });
        List<Setting> missing = settings.values().stream().filter(Setting::required)
                .filter(s -> values.get(s.name()) == null || values.get(s.name()).text().isBlank()).toList();
        if (missing.size() == 1) {
            Setting s = missing.get(0);
            throw new SettingsException(service + ": the setting " + s.name() + " is required (" + s.meaning()
                    + "); set it in the config file or as " + envName(s));
        }
        if (!missing.isEmpty()) {
            throw new SettingsException(service + ": " + missing.size() + " required settings are missing: "
                    + String.join(", ", missing.stream().map(s -> s.name() + " (" + envName(s) + ")").toList())
                    + "; set them in the config file (--print-config-template writes one) or as environment variables");
        }
        return new ServiceSettings(this, values);
    }

    private Map<String, String> readFile(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw new SettingsException(service + ": the config file " + file + " does not exist; give the path of a "
                    + "properties file (docs/configuration.md lists its settings)");
        } catch (IOException | IllegalArgumentException e) {
            throw new SettingsException(service + ": cannot read the config file " + file + " (" + e.getMessage()
                    + "); it must be a UTF-8 Java properties file, key=value per line", e);
        }
        Map<String, String> values = new java.util.TreeMap<>();
        for (String k : p.stringPropertyNames()) {
            check(k, file.getFileName().toString());
            values.put(k, p.getProperty(k).strip());
        }
        return values;
    }

    private void check(String key, String source) {
        if (settings.containsKey(key) || passThroughGroup(key).isPresent()) {
            return;
        }
        throw new SettingsException(service + ": unknown setting '" + key + "' in " + source + nearest(key)
                + "; docs/configuration.md lists the " + service + "'s settings");
    }

    private String keyOfEnv(String envName) {
        String rest = envName.substring(envPrefix.length()).toLowerCase(Locale.ROOT);
        for (Setting s : settings.values()) {
            if (envName(s).equals(envName)) {
                return s.name();
            }
        }
        for (String group : passThrough.keySet()) {
            String g = group.replace('.', '_') + "_";
            if (rest.startsWith(g) && rest.length() > g.length()) {
                return group + "." + rest.substring(g.length()).replace('_', '.');
            }
        }
        Setting near = settings.values().stream()
                .min(Comparator.comparingInt(s -> distance(envName(s), envName))).orElseThrow();
        throw new SettingsException(service + ": unknown environment variable " + envName + " (did you mean "
                + envName(near) + "?); unset it, or see docs/configuration.md for the " + service + "'s variables");
    }

    /**
     * Kubernetes injects {@code <SERVICE>_PORT}, {@code <SERVICE>_SERVICE_HOST} and the like for
     * every Service of the namespace; a Service named after a service's prefix (for example
     * {@code sealstream-worker}) would otherwise stop every pod with "unknown variable".
     */
    static boolean isServiceLink(String rest) {
        return SERVICE_LINK.matcher(rest).matches();
    }

    private static final java.util.regex.Pattern SERVICE_LINK = java.util.regex.Pattern.compile(
            "PORT|PORT_\\d+_(TCP|UDP|SCTP)(_PROTO|_PORT|_ADDR)?|SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?");

    Optional<String> passThroughGroup(String key) {
        return passThrough.keySet().stream().filter(g -> key.startsWith(g + ".") && key.length() > g.length() + 1).findFirst();
    }

    private String nearest(String key) {
        Setting near = settings.values().stream().min(Comparator.comparingInt(s -> distance(s.name(), key))).orElse(null);
        return near != null && distance(near.name(), key) <= Math.max(2, key.length() / 4)
                ? " (did you mean " + near.name() + "?)" : "";
    }

    /** Edit distance, for "did you mean". */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The table of this service's settings in docs/configuration.md. */
    public String markdown() {
        StringBuilder b = new StringBuilder("| Setting | Environment variable | Default | Meaning |\n|---|---|---|---|\n");
        for (Setting s : settings.values()) {
            b.append("| `").append(s.name()).append("` | `").append(envName(s)).append("` | ")
                    .append(s.required() ? "required" : s.defaultValue() == null ? "none" : "`" + s.defaultValue() + "`")
                    .append(" | ").append(s.description()).append(" |\n");
        }
        passThrough.forEach((group, description) -> b.append("| `").append(group).append(".*` | `").append(envPrefix)
                .append(group.toUpperCase(Locale.ROOT).replace('.', '_')).append("_*` | none | ").append(description).append(" |\n"));
        return b.toString().strip();
    }

    /** A template config file: every setting, commented, with its default. */
    public String template() {
        List<String> lines = new ArrayList<>();
        lines.add("# " + service + " settings; every key can also be set as an environment variable (docs/configuration.md)");
        for (Setting s : settings.values()) {
            lines.add("");
            lines.add("# " + s.description() + (s.required() ? " (required)" : ""));
            lines.add((s.required() ? "" : "#") + s.name() + "=" + (s.defaultValue() == null ? "" : s.defaultValue()));
        }
        return String.join("\n", lines) + "\n";
    }
}
