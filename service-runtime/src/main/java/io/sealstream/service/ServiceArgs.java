package io.sealstream.service;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The command line every service main takes: {@code [--config FILE] [--set KEY=VALUE]...
 * [--print-config-template]}. Everything else is a setting (file or environment), so a container
 * needs no arguments at all.
 */
public record ServiceArgs(Path config, Map<String, String> overrides, boolean printTemplate) {
    public ServiceArgs {
        overrides = Map.copyOf(overrides);
    }

    /** @throws SettingsException for an argument it does not know, naming the ones it does */
    public static ServiceArgs parse(String service, String... args) {
        Path config = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        boolean template = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--print-config-template")) {
                template = true;
            } else if ((a.equals("--config") || a.equals("--set")) && i + 1 < args.length) {
                String v = args[++i];
                if (a.equals("--config")) {
                    config = Path.of(v);
                } else if (v.indexOf('=') > 0) {
                    overrides.put(v.substring(0, v.indexOf('=')).strip(), v.substring(v.indexOf('=') + 1).strip());
                } else {
                    // the argument is not repeated: it may be a value given without its key
                    throw new SettingsException(service + ": --set takes KEY=VALUE; argument " + (i + 1) + " has no key");
                }
            } else if (a.startsWith("--config=")) {
                config = Path.of(a.substring("--config=".length()));
            } else {
                throw new SettingsException(service + ": unknown argument '" + a.replaceFirst("=.*", "=...")
                        + "'; the arguments are --config FILE, "
                        + "--set KEY=VALUE (repeatable) and --print-config-template; settings come from the file and "
                        + "the environment (docs/configuration.md)");
            }
        }
        return new ServiceArgs(config, overrides, template);
    }
}
