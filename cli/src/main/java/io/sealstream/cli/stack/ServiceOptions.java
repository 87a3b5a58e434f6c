package io.sealstream.cli.stack;

import io.sealstream.service.ServiceArgs;
import io.sealstream.service.ServiceLauncher;
import io.sealstream.service.SettingsSchema;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options of a command that runs a service ({@code sealstream worker}, {@code sealstream
 * key-broker}): the same as the service's own main takes ({@link ServiceArgs}), so the CLI adds
 * nothing to learn.
 */
public final class ServiceOptions {
    @Option(names = "--config", paramLabel = "FILE", description = "The service's properties file "
            + "(docs/configuration.md); environment variables override it.")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "One setting, overriding the file and the environment.")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--print-config-template", description = "Print every setting with its default, as a config file, and exit.")
    boolean printTemplate;

    /** Runs the service until SIGTERM or SIGINT; returns its exit code. */
    public int launch(SettingsSchema schema, ServiceLauncher.Service service) {
        return ServiceLauncher.launch(schema, new ServiceArgs(config, overrides, printTemplate), System.getenv(), service).code();
    }
}
