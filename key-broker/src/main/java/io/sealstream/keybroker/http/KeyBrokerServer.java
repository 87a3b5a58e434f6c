package io.sealstream.keybroker.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sealstream.keybroker.KeyBroker;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.ErrorBody;
import io.sealstream.keybroker.api.HandoverRequest;
import io.sealstream.keybroker.api.PolicyChange;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.api.CustodyStatus;
import io.sealstream.keybroker.api.KeyBrokerPaths;
import io.sealstream.keybroker.api.TopicList;
import io.sealstream.service.ServiceMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Base64;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key broker's HTTP API (ARCHITECTURE.md §6) on the JDK's HTTP server, bound to loopback
 * unless configured otherwise, plus the rotation timer. Request bodies are capped at 1 MiB.
 */
public final class KeyBrokerServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyBrokerServer.class);
    private static final int MAX_BODY = 1 << 20;

    private final KeyBroker broker;
    /** The broker's registry, served at {@link ServiceMetrics#PATH}. */
    private final ServiceMetrics metrics;
    /** /metrics on a port of its own: clients reach the API, only Prometheus should reach this. */
    private final HttpServer metricsHttp;
    private final HttpServer http;
    private final SourceRateLimits publicLimits;
    private final SourceRateLimits attestLimits;
    private final ExecutorService workers = Executors.newFixedThreadPool(4, daemon("key-broker-http"));
    private final ScheduledExecutorService rotation = Executors.newSingleThreadScheduledExecutor(daemon("key-broker-rotation"));

    private KeyBrokerServer(KeyBroker broker, ServiceMetrics metrics, KeyBrokerConfig config) throws IOException {
        this.broker = broker;
        this.metrics = metrics;
        this.http = HttpServer.create(new InetSocketAddress(config.bindAddress(), config.port()), 64);
        http.setExecutor(workers);
        this.publicLimits = new SourceRateLimits(config.publicRequestsPerSecond());
        this.attestLimits = new SourceRateLimits(config.attestationsPerSecond());
        http.createContext(KeyBrokerPaths.AUTH, ex -> handle(ex, "POST", publicLimits, () -> broker.challenge()));
        http.createContext(KeyBrokerPaths.ATTEST, ex -> handle(ex, "POST", attestLimits,
                () -> broker.attest(read(ex, AttestRequest.class))));
        http.createContext(KeyBrokerPaths.KEYS, this::keys);
        http.createContext(KeyBrokerPaths.CUSTODY, this::custody);
        http.createContext(KeyBrokerPaths.LOG, this::log);
        http.createContext(KeyBrokerPaths.POLICY_CHALLENGE, ex -> handle(ex, "POST", attestLimits, broker::policyChallenge));
        http.createContext(KeyBrokerPaths.POLICY, ex -> {
            if (ex.getRequestURI().getRawPath().equals(KeyBrokerPaths.POLICY)) {
                handle(ex, "POST", attestLimits, () -> broker.changePolicy(read(ex, PolicyChange.class)));
            } else {
                handle(ex, "POST", publicLimits, () -> {
                    throw new KeyBrokerException(404, "not_found", "no such policy endpoint; see docs/key-broker.md");
                });
            }
        });
        try {
            this.metricsHttp = HttpServer.create(new InetSocketAddress(config.metricsAddress(), config.metricsPort()), 4);
        } catch (IOException e) {
            // the API's socket is bound to the server's selector: only a started server releases it
            http.start();
            http.stop(0);
            throw new IOException("the key broker's metrics cannot listen on " + config.metricsAddress() + ":"
                    + config.metricsPort() + " (" + e.getMessage() + "); free the port or set metrics.port", e);
        }
        metrics.serveOn(metricsHttp);
        http.createContext(KeyBrokerPaths.HEALTH, ex -> handle(ex, "GET", null, () -> java.util.Map.of("status", "ok")));
        http.createContext(KeyBrokerPaths.READY, ex -> handle(ex, "GET", null, () -> {
            CustodyStatus custody = broker.custodyStatus();
            if (!CustodyStatus.READY.equals(custody.state())) {
                throw new KeyBrokerException(503, custody.state(), "the key broker holds no root secret yet (custody "
                        + custody.mode() + "); it releases keys once the owner runs 'sealstream key-broker recover'");
            }
            return custody;
        }));
        long every = config.rotationCheck().toMillis();
        rotation.scheduleAtFixedRate(this::rotateQuietly, every, every, TimeUnit.MILLISECONDS);
    }

    /** Starts the broker's HTTP API and rotation timer. */
    public static KeyBrokerServer start(KeyBrokerConfig config) {
        ServiceMetrics metrics = new ServiceMetrics();
        try {
            KeyBrokerServer server = new KeyBrokerServer(new KeyBroker(config, metrics.meters()), metrics, config);
            server.http.start();
            server.metricsHttp.start();
            LOG.info("keybroker.listening url={} metrics={}", server.url(), server.metricsUrl() + ServiceMetrics.PATH);
            return server;
        } catch (IOException e) {
            metrics.close();
            config.auditSink().close();
            throw new UncheckedIOException("the key broker cannot listen on " + config.bindAddress() + ":" + config.port(), e);
        } catch (RuntimeException e) {
            metrics.close();
            config.auditSink().close(); // its sender would outlive a broker that never started
            throw e;
        }
    }

    /** Base URL, e.g. {@code http://127.0.0.1:PORT}. */
    public String url() {
        InetSocketAddress a = http.getAddress();
        return "http://" + a.getHostString() + ":" + a.getPort();
    }

    /** Base URL of the metrics endpoint's server, e.g. {@code http://127.0.0.1:PORT} ({@code /metrics} below it). */
    public String metricsUrl() {
        InetSocketAddress a = metricsHttp.getAddress();
        return "http://" + a.getHostString() + ":" + a.getPort();
    }

    public KeyBroker broker() {
        return broker;
    }

    private void keys(HttpExchange ex) throws IOException {
        String rest = ex.getRequestURI().getRawPath().substring(KeyBrokerPaths.KEYS.length());
        boolean isPublic = rest.endsWith(KeyBrokerPaths.PUBLIC_SUFFIX);
        String topic = URLDecoder.decode(isPublic ? rest.substring(0, rest.length() - KeyBrokerPaths.PUBLIC_SUFFIX.length())
                : rest, StandardCharsets.UTF_8);
        if (rest.isEmpty()) {
            handle(ex, "GET", publicLimits, () -> new TopicList(List.copyOf(new java.util.TreeSet<>(broker.topics()))));
        } else if (isPublic) {
            handle(ex, "GET", publicLimits, () -> broker.publicKeys(topic, nonceParameter(ex)));
        } else {
            handle(ex, "GET", attestLimits, () -> broker.release(bearer(ex), topic));
        }
    }

    private void custody(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        if (path.equals(KeyBrokerPaths.CUSTODY)) {
            handle(ex, "GET", publicLimits, broker::custodyStatus);
        } else if (path.equals(KeyBrokerPaths.CUSTODY_HANDOVER)) {
            handle(ex, "POST", attestLimits, () -> broker.handover(read(ex, HandoverRequest.class)));
        } else if (path.equals(KeyBrokerPaths.CUSTODY_RECOVERY)) {
            if ("GET".equals(ex.getRequestMethod())) {
                handle(ex, "GET", attestLimits, () -> broker.recoveryOffer(nonceParameter(ex)));
            } else {
                handle(ex, "POST", attestLimits, () -> broker.recover(read(ex, RecoveryDelivery.class)));
            }
        } else {
            handle(ex, "GET", publicLimits, () -> {
                throw new KeyBrokerException(404, "not_found", "no such custody endpoint; see docs/key-broker.md");
            });
        }
    }

    /** The transparency log: public and read-only, rate-limited like the public keys. */
    private void log(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getRawPath();
        switch (path) {
            case KeyBrokerPaths.LOG_HEAD -> handle(ex, "GET", publicLimits, broker::logHead);
            case KeyBrokerPaths.LOG_KEY -> handle(ex, "GET", publicLimits, broker::logKey);
            case KeyBrokerPaths.LOG_ENTRIES -> handle(ex, "GET", publicLimits,
                    () -> broker.logEntries(longParameter(ex, "start"), longParameter(ex, "end")));
            case KeyBrokerPaths.LOG_INCLUSION -> handle(ex, "GET", publicLimits,
                    () -> broker.inclusionProof(longParameter(ex, "index"), longParameter(ex, "size")));
            case KeyBrokerPaths.LOG_CONSISTENCY -> handle(ex, "GET", publicLimits,
                    () -> broker.consistencyProof(longParameter(ex, "first"), longParameter(ex, "second")));
            default -> handle(ex, "GET", publicLimits, () -> {
                throw new KeyBrokerException(404, "not_found", "no such log endpoint; see docs/transparency.md");
            });
        }
    }

    private static long longParameter(HttpExchange ex, String name) throws KeyBrokerException {
        String query = ex.getRequestURI().getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.startsWith(name + "=")) {
                    String value = pair.substring(name.length() + 1);
                    if (value.matches("[0-9]{1,15}")) {
                        return Long.parseLong(value);
                    }
                    throw new KeyBrokerException(400, "bad_request", name + " is a whole number from 0, not '"
                            + (value.length() > 20 ? value.substring(0, 20) + "…" : value).replaceAll("[^0-9A-Za-z._-]", "?")
                            + "'");
                }
            }
        }
        throw new KeyBrokerException(400, "bad_request", "add ?" + name + "=<whole number>");
    }

    private static byte[] nonceParameter(HttpExchange ex) throws KeyBrokerException {
        String query = ex.getRequestURI().getRawQuery();
        if (query != null) {
            for (String pair : query.split("&")) {
                if (pair.startsWith("nonce=")) {
                    try {
                        return Base64.getUrlDecoder().decode(URLDecoder.decode(pair.substring(6), StandardCharsets.UTF_8));
                    } catch (IllegalArgumentException e) {
                        throw new KeyBrokerException(400, "bad_request", "nonce is not base64url");
                    }
                }
            }
        }
        throw new KeyBrokerException(400, "bad_request", "add ?nonce=<16 to 64 random bytes, base64url>");
    }

    private static String bearer(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        return auth != null && auth.startsWith("Bearer ") ? auth.substring(7).trim() : null;
    }

    private static <T> T read(HttpExchange ex, Class<T> type) throws KeyBrokerException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (body.length > MAX_BODY) {
                throw new KeyBrokerException(413, "too_large", "request bodies are limited to " + MAX_BODY + " bytes");
            }
            return KeyBrokerJson.mapper().readValue(body, type);
        } catch (JsonProcessingException e) {
            throw new KeyBrokerException(400, "bad_request", "the body is not valid JSON for " + type.getSimpleName()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new KeyBrokerException(400, "bad_request", "the request body could not be read");
        }
    }

    /**
     * Answers one call: {@code limits} (null: none) are taken per source address before anything
     * else, so a flood from one source is refused with 429 without costing evidence or state.
     */
    private void handle(HttpExchange ex, String method, SourceRateLimits limits, Call call) throws IOException {
        try (ex) {
            Object body;
            int status = 200;
            long retryAfter = limits == null ? 0
                    : limits.take(SourceRateLimits.sourceOf(ex.getRemoteAddress().getAddress()), System.nanoTime());
            if (retryAfter > 0) {
                status = 429;
                body = new ErrorBody("rate_limited", "more than " + (long) limits.perSecond() + " such calls a second "
                        + "from this address; retry after " + retryAfter + " s");
                ex.getResponseHeaders().set("Retry-After", Long.toString(retryAfter));
            } else if (!method.equals(ex.getRequestMethod())) {
                status = 405;
                body = new ErrorBody("method_not_allowed", "use " + method + " for " + ex.getRequestURI().getPath());
            } else {
                try {
                    body = call.run();
                } catch (KeyBrokerException e) {
                    status = e.status();
                    body = new ErrorBody(e.code(), e.detail());
                } catch (RuntimeException e) {
                    LOG.error("keybroker.request.failed path={} error={}", ex.getRequestURI().getPath(),
                            e.getClass().getSimpleName(), e);
                    status = 500;
                    body = new ErrorBody("internal_error", "the key broker failed; retry, and alert the operator if it persists");
                }
            }
            byte[] json = KeyBrokerJson.mapper().writeValueAsBytes(body);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            ex.sendResponseHeaders(status, json.length);
            ex.getResponseBody().write(json);
        }
    }

    private void rotateQuietly() {
        try {
            broker.rotateDue();
        } catch (RuntimeException e) {
            LOG.error("keybroker.rotation.failed error={}", e.getClass().getSimpleName(), e);
        }
    }

    @Override
    public void close() {
        rotation.shutdownNow();
        http.stop(0);
        metricsHttp.stop(0);
        workers.shutdownNow();
        broker.close();
        metrics.close();
        LOG.info("keybroker.stopped");
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    @FunctionalInterface
    private interface Call {
        Object run() throws KeyBrokerException;
    }
}
