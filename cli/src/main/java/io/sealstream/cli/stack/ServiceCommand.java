package io.sealstream.cli.stack;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command line that starts a Sealstream service as its own process, as a deployment does:
 * the service's own jar (built by {@code mvn package}, its class path in {@code lib/} beside it)
 * with {@code --config FILE}. Where the jar is not built (a test run before {@code package}), the
 * service's main on this JVM's class path instead.
 */
public enum ServiceCommand {
    WORKER("tee-worker/target/sealstream-worker.jar", "io.sealstream.worker.WorkerMain"),
    KEY_BROKER("key-broker/target/sealstream-key-broker.jar", "io.sealstream.keybroker.KeyBrokerMain");

    private final String jar;
    private final String mainClass;

    ServiceCommand(String jar, String mainClass) {
        this.jar = jar;
        this.mainClass = mainClass;
    }

    /** {@code java -Xmx... -jar JAR --config FILE}, or the main class on this class path if the jar is not built. */
    public List<String> command(String maxHeap, Path config, String... jvmOptions) {
        List<String> c = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + maxHeap, "-Dai.djl.offline=true"));
        c.addAll(List.of(jvmOptions));
        Optional<Path> built = ownJar();
        if (built.isPresent()) {
            c.addAll(List.of("-jar", built.get().toString()));
        } else {
            c.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        }
        // a jar from an earlier 'mvn package' may be older than the code: say which one runs
        org.slf4j.LoggerFactory.getLogger(ServiceCommand.class).info("service.command service={} runs={}", name(),
                built.map(Path::toString).orElse("this JVM's class path (no jar built)"));
        c.addAll(List.of("--config", config.toString()));
        return c;
    }

    /** The service's own jar, looked for from the working directory up (the repository root, or a module under it). */
    public Optional<Path> ownJar() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(jar);
            if (Files.isRegularFile(candidate) && Files.isDirectory(candidate.resolveSibling("lib"))) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
