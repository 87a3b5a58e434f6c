package io.sealstream.service;

import java.io.PrintStream;
import java.util.Map;

/**
 * Runs a service from its command line: prints the config template if asked, reads the
 * settings, runs the service until it stops, and returns the exit to end the process with. The
 * services' own mains and the CLI's service commands go through here, so they behave alike.
 */
public final class ServiceLauncher {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ServiceLauncher.class);

    private ServiceLauncher() {
    }

    /** A service's body: serve until {@code process} says stop; say why it stopped. */
    @FunctionalInterface
    public interface Service {
        ServiceExit run(ServiceSettings settings, ServiceProcess process, PrintStream out, PrintStream err);
    }

    /** Launches {@code service} as {@code args} and {@code env} say; a configuration error ends in {@link ServiceExit#CONFIG_INVALID}. */
    public static ServiceExit launch(SettingsSchema schema, ServiceArgs args, Map<String, String> env, Service service) {
        if (args.printTemplate()) {
            System.out.print(schema.template());
            return ServiceExit.STOPPED;
        }
        ServiceSettings settings;
        try {
            settings = schema.load(args.config(), env, args.overrides());
        } catch (SettingsException e) {
            System.err.println(e.getMessage());
            return ServiceExit.CONFIG_INVALID;
        }
        if (schema.settings().contains(ServiceLogging.FORMAT)) {
            try {
                ServiceLogging.apply(settings);
            } catch (SettingsException e) {
                System.err.println(schema.service() + ": " + e.getMessage());
                return ServiceExit.CONFIG_INVALID;
            }
        }
        try {
            return service.run(settings, ServiceProcess.listen(), System.out, System.err);
        } catch (RuntimeException | Error e) {
            // a bug or a failure no start step expected: say so, and exit with a code, not a hang
            LOG.error("service.failed service=\"{}\" error={}", schema.service(), e.getClass().getSimpleName(), e);
            System.err.println(schema.service() + ": failed unexpectedly (" + e.getClass().getSimpleName()
                    + "); the log has the stack trace");
            return ServiceExit.FAILED;
        }
    }

    /** For a service's {@code main}: parses {@code args}, launches, and exits the JVM with the exit's code. */
    public static void main(SettingsSchema schema, String[] args, Service service) {
        ServiceExit exit;
        try {
            exit = launch(schema, ServiceArgs.parse(schema.service(), args), System.getenv(), service);
        } catch (SettingsException e) {
            System.err.println(e.getMessage());
            exit = ServiceExit.CONFIG_INVALID;
        }
        System.exit(exit.code());
    }
}
