package io.sealstream.service;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of a service process after it started: it runs until SIGTERM or SIGINT (an
 * orchestrator stopping it) or until the service itself stops for a reason of its own (a hung
 * engine); either way the caller gets the {@link ServiceExit} to exit with.
 *
 * <p>The signals are caught (not left to the JVM's shutdown hooks), so that a graceful shutdown
 * exits with {@link ServiceExit#STOPPED} and one that did not finish with
 * {@link ServiceExit#STOP_INCOMPLETE} instead of the JVM's fixed 143. A second signal during the
 * shutdown ends the process at once.
 */
public final class ServiceProcess {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProcess.class);

    private final CompletableFuture<String> stopRequested = new CompletableFuture<>();
    private final CompletableFuture<ServiceExit> stoppedItself = new CompletableFuture<>();

    private ServiceProcess() {
    }

    /** Starts listening for SIGTERM and SIGINT. */
    public static ServiceProcess listen() {
        ServiceProcess p = new ServiceProcess();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s -> p.signalled("SIG" + name));
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal to itself (e.g. -Xrs): the default handling stays
                LOG.warn("service.signal.unhandled signal=SIG{} reason=\"{}\"", name, e.getMessage());
            }
        }
        return p;
    }

    /**
     * The first signal asks for a graceful shutdown; a second one, while that runs, ends the
     * process at once with {@link ServiceExit#STOP_INCOMPLETE} (an operator who cannot wait).
     */
    private void signalled(String signal) {
        if (!stopRequested.complete(signal)) {
            LOG.warn("service.stop.forced by={} exit={} code={}", signal, ServiceExit.STOP_INCOMPLETE,
                    ServiceExit.STOP_INCOMPLETE.code());
            Runtime.getRuntime().halt(ServiceExit.STOP_INCOMPLETE.code());
        }
    }

    /** A process driven by a test: {@link #requestStop} stands in for the signal. */
    public static ServiceProcess withoutSignals() {
        return new ServiceProcess();
    }

    /** As a signal would: the service should shut down gracefully. */
    public void requestStop(String reason) {
        stopRequested.complete(reason);
    }

    /** The service stopped on its own, with {@code exit}; {@link #awaitStop} returns it. */
    public void stoppedItself(ServiceExit exit) {
        stoppedItself.complete(exit);
    }

    /**
     * Waits until a stop is requested (returns empty: the caller shuts down gracefully) or the
     * service stopped itself (returns its exit).
     */
    public java.util.Optional<ServiceExit> awaitStop() throws InterruptedException {
        try {
            Object first = CompletableFuture.anyOf(stopRequested, stoppedItself).get();
            if (first instanceof ServiceExit exit) {
                return java.util.Optional.of(exit);
            }
            LOG.info("service.stop.requested by={}", first);
            return java.util.Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
