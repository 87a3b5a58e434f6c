package io.sealstream.cli.stack;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/** Waits for a service process to answer 200 on its readiness endpoint, as an orchestrator's probe does. */
public final class Readiness {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** Between probes: a listener not yet bound refuses at once, so the probe itself does not wait. */
    private static final Duration PROBE_INTERVAL = Duration.ofMillis(200);

    private Readiness() {
    }

    /**
     * Returns once {@code readyz} answers 200; fails at once if {@code process} exits, and after
     * {@code timeout}. Failures name {@code what} and its {@code log}.
     */
    public static void await(URI readyz, Process process, Duration timeout, String what, Path log) throws InterruptedException {
        HttpRequest probe = HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(what + " exited with status " + process.exitValue() + "; its log: " + log);
            }
            try {
                if (HTTP.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notListeningYet) {
                // still starting
            }
            Thread.sleep(PROBE_INTERVAL.toMillis());
        }
        throw new IllegalStateException(what + " was not ready within " + timeout.toSeconds() + " s; its log: " + log);
    }
}
