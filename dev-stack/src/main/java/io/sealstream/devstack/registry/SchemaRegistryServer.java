package io.sealstream.devstack.registry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import io.sealstream.devstack.LoopbackPorts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Confluent-compatible schema registry (Apicurio Registry, in-memory storage) started as a
 * child process on a free loopback port. The server is the fast-jar that the
 * {@code registry-server} module builds; {@link #locate()} says where it is looked for.
 */
public final class SchemaRegistryServer implements AutoCloseable {
    /** System property naming the registry's {@code quarkus-run.jar}. */
    public static final String APP_PROPERTY = "sealstream.registry.app";
    /** Environment variable naming the registry's {@code quarkus-run.jar}. */
    public static final String APP_ENV = "SEALSTREAM_REGISTRY_APP";
    /** Path of the Confluent-compatible API on the server. */
    public static final String CONFLUENT_API_PATH = "/apis/ccompat/v7";

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRegistryServer.class);
    private static final String RELATIVE_APP = "registry-server/target/quarkus-app/quarkus-run.jar";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path app;
    private final Path logFile;
    private final int port;
    private final Process process;
    private final Thread reaper;

    private SchemaRegistryServer(Path app, Path logFile, int port, Process process) {
        this.app = app;
        this.logFile = logFile;
        this.port = port;
        this.process = process;
        // a test JVM that exits without close() must not leave a registry behind
        this.reaper = new Thread(process::destroyForcibly, "schema-registry-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** Starts the registry found by {@link #locate()} and waits until its Confluent API answers. */
    public static SchemaRegistryServer start() {
        return start(locate());
    }

    /** Starts the registry from {@code quarkusRunJar} and waits until its Confluent API answers. */
    public static SchemaRegistryServer start(Path quarkusRunJar) {
        if (!Files.isRegularFile(quarkusRunJar)) {
            throw new IllegalStateException("the schema registry server is not built: " + quarkusRunJar
                    + " is missing; run 'mvn -pl registry-server package' first");
        }
        int port = LoopbackPorts.free();
        try {
            Path logFile = Files.createTempFile("sealstream-registry-", ".log");
            List<String> command = new ArrayList<>(List.of(javaBinary(),
                    "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Dquarkus.http.host=127.0.0.1",
                    "-Dquarkus.http.port=" + port,
                    "-jar", quarkusRunJar.toString()));
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .start();
            SchemaRegistryServer server = new SchemaRegistryServer(quarkusRunJar, logFile, port, process);
            server.awaitReady();
            LOG.info("registry.started url={} pid={}", server.url(), process.pid());
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the schema registry from " + quarkusRunJar, e);
        }
    }

    /**
     * Where the registry's {@code quarkus-run.jar} is: the system property {@value #APP_PROPERTY},
     * else the environment variable {@value #APP_ENV}, else {@value #RELATIVE_APP} under the
     * working directory or one of its parents.
     */
    public static Path locate() {
        Optional<String> configured = Optional.ofNullable(System.getProperty(APP_PROPERTY))
                .or(() -> Optional.ofNullable(System.getenv(APP_ENV)));
        if (configured.isPresent()) {
            return Paths.get(configured.get());
        }
        for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(RELATIVE_APP);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("cannot find the schema registry server: set -D" + APP_PROPERTY
                + " or " + APP_ENV + " to its quarkus-run.jar, or run from the Sealstream checkout after "
                + "'mvn -pl registry-server package'");
    }

    private void awaitReady() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(url() + "/subjects"))
                .timeout(Duration.ofSeconds(5)).GET().build();
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the schema registry exited with status " + process.exitValue()
                        + " while starting; its output is in " + logFile);
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (ConnectException e) {
                // not listening yet
            } catch (IOException e) {
                LOG.debug("registry.probe.failed reason={}", e.getClass().getSimpleName());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while waiting for the schema registry", e);
            }
            sleep(100);
        }
        close();
        throw new IllegalStateException("the schema registry did not answer on " + url() + " within "
                + START_TIMEOUT.toSeconds() + " s; its output is in " + logFile);
    }

    /** Base URL of the Confluent-compatible API, e.g. {@code http://127.0.0.1:PORT/apis/ccompat/v7}. */
    public String url() {
        return "http://127.0.0.1:" + port + CONFLUENT_API_PATH;
    }

    public int port() {
        return port;
    }

    /** The server's process id. */
    public long pid() {
        return process.pid();
    }

    /** True while the child process runs. */
    public boolean isRunning() {
        return process.isAlive();
    }

    /** Where the server's own output goes. */
    public Path logFile() {
        return logFile;
    }

    /** Stops the child process: politely first, forcibly after 10 s. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            LOG.info("registry.stopped pid={}", process.pid());
        }
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs anyway
        }
    }

    private static String javaBinary() {
        return Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    }


    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "SchemaRegistryServer[url=" + url() + ", app=" + app + ", running=" + isRunning() + "]";
    }
}
