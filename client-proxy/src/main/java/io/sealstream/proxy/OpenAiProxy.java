package io.sealstream.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.Answer;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.VerifiedTopic;
import io.sealstream.client.openai.OpenAiBodies;
import io.sealstream.client.openai.OpenAiRequests;
import io.sealstream.schemas.v1.ChatResult;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * An OpenAI-compatible HTTP endpoint on the user's machine. An application keeps its OpenAI SDK
 * and changes only its base URL: each request the proxy accepts is sealed by the
 * {@link SealstreamClient} for attested workers, travels through Kafka, and is answered from the
 * client's own response topic. The proxy verifies the key broker under the pinned policy before it
 * binds its port ({@link #start()}), so it never accepts a request it could not seal.
 *
 * <p>Local by default: it binds loopback, refuses requests from web pages (an {@code Origin}
 * header) and for host names other than its own (DNS rebinding), and can demand a bearer token.
 * Plaintext leaves the machine only sealed; the access log carries ids, statuses and codes.
 *
 * <pre>{@code
 * try (OpenAiProxy proxy = OpenAiProxy.builder(client).port(8080).build()) {
 *     proxy.start();   // verifies the key broker first
 *     ...              // base URL http://127.0.0.1:8080/v1
 * }
 * }</pre>
 */
public final class OpenAiProxy implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SealstreamClient client;
    private final InetSocketAddress listen;
    private final byte[] bearerToken;
    private final Duration requestTimeout;
    private final int maxBodyBytes;
    private final int maxInFlight;
    private final AccessLog accessLog;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Server server;
    private final ServedModels models;
    private volatile boolean closing;

    private OpenAiProxy(Builder b) {
        this.client = b.client;
        this.listen = b.listen;
        this.bearerToken = b.bearerToken == null ? null : b.bearerToken.getBytes(StandardCharsets.UTF_8);
        this.requestTimeout = b.requestTimeout;
        this.maxBodyBytes = b.maxBodyBytes;
        this.maxInFlight = b.maxInFlight;
        this.accessLog = new AccessLog();
        this.models = new ServedModels(client);
        QueuedThreadPool threads = new QueuedThreadPool(b.threads, 2, 60_000);
        threads.setName("sealstream-proxy");
        threads.setDaemon(true);
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(16 << 10);
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        // an idle keep-alive connection ends; one waiting for its answer is not idle past the request timeout
        connector.setIdleTimeout(requestTimeout.plusSeconds(30).toMillis());
        server.addConnector(connector);
        server.setHandler(new Routes());
        server.setStopTimeout(5_000);
    }

    public static Builder builder(SealstreamClient client) {
        return new Builder(client);
    }

    /**
     * Verifies the key broker (evidence, pinned measurement and policy, transparency log), then
     * binds and serves. Throws the SDK's failure, and binds nothing, if the broker does not verify.
     */
    public VerifiedTopic start() throws Exception {
        VerifiedTopic verified = client.verifyKeyBroker();
        server.start();
        return verified;
    }

    /** The address bound (its port, when built with port 0). */
    public InetSocketAddress address() {
        ServerConnector c = (ServerConnector) server.getConnectors()[0];
        if (c.getLocalPort() <= 0) {
            throw new IllegalStateException("the proxy is not listening: start() it first (it binds only after the "
                    + "key broker verifies)");
        }
        return new InetSocketAddress(listen.getAddress(), c.getLocalPort());
    }

    /** Whether it is bound and serving. */
    public boolean isServing() {
        return server.isStarted() && ((ServerConnector) server.getConnectors()[0]).getLocalPort() > 0;
    }

    /** The base URL an OpenAI SDK takes: {@code http://host:port/v1}. */
    public String baseUrl() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/v1";
    }

    /** Requests accepted and not yet answered. */
    public int inFlight() {
        return inFlight.get();
    }

    /** Stops accepting, lets requests in flight finish (5 s at most), then stops. The client stays open. */
    @Override
    public void close() throws Exception {
        closing = true;
        server.stop();
    }

    /** Routes by path; every answer, refusal or failure ends in exactly one response and one access-log line. */
    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Exchange ex = new Exchange(request, response, callback);
            String path = Request.getPathInContext(request);
            String route = switch (path) {
                case "/v1/embeddings", "/v1/chat/completions", "/v1/models" -> path;
                default -> "(other)";
            };
            ex.route = route;
            ProxyError refused = admit(request);
            if (refused != null) {
                ex.fail(refused);
                return true;
            }
            switch (route) {
                case "/v1/models" -> {
                    if (!"GET".equals(request.getMethod())) {
                        ex.fail(ProxyError.methodNotAllowed("GET"));
                    } else {
                        ex.json(200, models.list());
                    }
                }
                case "/v1/embeddings", "/v1/chat/completions" -> {
                    if (!"POST".equals(request.getMethod())) {
                        ex.fail(ProxyError.methodNotAllowed("POST"));
                    } else {
                        post(ex);
                    }
                }
                default -> ex.fail(ProxyError.notFound("this path"));
            }
            return true;
        }

        /** Loopback's guards and the token; null when the request may go on. */
        private ProxyError admit(Request request) {
            if (request.getHeaders().get(HttpHeader.ORIGIN) != null || !allowedHost(Request.getServerName(request))) {
                return ProxyError.foreignOrigin();
            }
            if (bearerToken != null) {
                String auth = request.getHeaders().get(HttpHeader.AUTHORIZATION);
                byte[] given = auth != null && auth.startsWith("Bearer ")
                        ? auth.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
                if (!MessageDigest.isEqual(given, bearerToken)) {
                    return ProxyError.unauthorized();
                }
            }
            return null;
        }

        private void post(Exchange ex) {
            long declared = ex.request.getLength();
            if (declared > maxBodyBytes) {
                ex.fail(ProxyError.tooLarge(maxBodyBytes));
                return;
            }
            if (closing) {
                ex.fail(ProxyError.closing());
                return;
            }
            if (inFlight.incrementAndGet() > maxInFlight) {
                inFlight.decrementAndGet();
                ex.fail(ProxyError.busy(maxInFlight));
                return;
            }
            ex.counted = true;
            Content.Source.asByteArrayAsync(ex.request, maxBodyBytes).whenComplete((bytes, readFailure) -> {
                if (readFailure != null) {
                    ex.fail(ex.request.getLength() < 0 && !(readFailure instanceof IOException)
                            ? ProxyError.tooLarge(maxBodyBytes) : ProxyError.notJson());
                    return;
                }
                try {
                    sendParsed(ex, bytes);
                } catch (RuntimeException e) {
                    ex.fail(ProxyError.of(e));
                }
            });
        }

        private void sendParsed(Exchange ex, byte[] bytes) {
            JsonNode body;
            try {
                body = JSON.readTree(bytes);
            } catch (IOException e) {
                ex.fail(ProxyError.notJson());
                return;
            }
            String requestId = SealstreamClient.newRequestId();
            ex.requestId = requestId;
            if (ex.route.equals("/v1/embeddings")) {
                OpenAiRequests.Embeddings e = OpenAiRequests.embeddings(body, "", true);
                ex.model = e.request().getModel();
                client.answer(requestId, e.request(), requestTimeout).whenCompleteAsync((answer, failure) -> {
                    if (failure != null) {
                        ex.fail(ProxyError.of(failure));
                    } else {
                        ex.json(200, answered(requestId, answer, e.base64()));
                    }
                }, executor());
            } else {
                OpenAiRequests.Chat chat = OpenAiRequests.chat(body, "", true);
                ex.model = chat.request().getModel();
                client.answer(requestId, chat.request(), requestTimeout).whenCompleteAsync((answer, failure) -> {
                    if (failure != null) {
                        ex.fail(ProxyError.of(failure));
                    } else if (chat.stream()) {
                        ex.events(streamed(requestId, answer, chat.includeUsage()));
                    } else {
                        ex.json(200, answered(requestId, answer, false));
                    }
                }, executor());
            }
        }
    }

    private Executor executor() {
        // rendering a large answer runs on the proxy's threads, not on the SDK's response listener
        return server.getThreadPool();
    }

    private ObjectNode answered(String requestId, Answer answer, boolean base64) {
        models.saw(answer);
        return OpenAiBodies.answer(requestId, answer.body(), answer.provenance(), base64);
    }

    /**
     * A completed answer as server-sent events in OpenAI's chunk format: the role, the content, the
     * finish reason, the usage when asked for, then {@code [DONE]}. The answer reaches the client
     * at the worker's commit, whole, so every chunk follows at once.
     */
    private String streamed(String requestId, Answer answer, boolean includeUsage) {
        models.saw(answer);
        ChatResult c = (ChatResult) answer.body().getOutput();
        String model = answer.body().getModel();
        long created = Instant.now().getEpochSecond();
        StringBuilder sse = new StringBuilder();
        ObjectNode first = OpenAiBodies.chunk(requestId, model, created, "assistant", "", null);
        answer.provenance().ifPresent(p -> OpenAiBodies.provenance(first, p));
        event(sse, first);
        if (!c.getContent().isEmpty()) {
            event(sse, OpenAiBodies.chunk(requestId, model, created, null, c.getContent(), null));
        }
        event(sse, OpenAiBodies.chunk(requestId, model, created, null, null, c.getFinishReason().name()));
        if (includeUsage) {
            event(sse, OpenAiBodies.usageChunk(requestId, model, created, c));
        }
        return sse.append("data: [DONE]\n\n").toString();
    }

    private static void event(StringBuilder sse, ObjectNode data) {
        sse.append("data: ").append(data.toString()).append("\n\n");
    }

    /**
     * {@code localhost} or a literal address. A page that rebinds a name of its own to this machine
     * sends that name: it is refused. A literal address needs no lookup and cannot be rebound.
     */
    static boolean allowedHost(String host) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                || h.contains(":") && h.matches("[0-9a-fA-F:.]+");
    }

    /** One HTTP exchange: answered once, logged once. */
    private final class Exchange {
        final Request request;
        final Response response;
        final Callback callback;
        final long startNanos = System.nanoTime();
        String route;
        String requestId;
        String model;
        boolean counted;
        private boolean done;

        Exchange(Request request, Response response, Callback callback) {
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        void fail(ProxyError e) {
            write(e.status(), "application/json", e.body().toString(), e.code());
        }

        void json(int status, ObjectNode body) {
            write(status, "application/json", body.toString(), null);
        }

        void events(String sse) {
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
            write(200, "text/event-stream; charset=utf-8", sse, null);
        }

        private synchronized void write(int status, String contentType, String text, String code) {
            if (done) {
                return;
            }
            done = true;
            if (counted) {
                inFlight.decrementAndGet();
            }
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
            if (requestId != null) {
                response.getHeaders().put("x-request-id", requestId);
            }
            accessLog.record(request.getMethod(), route, status, code, requestId, model,
                    (System.nanoTime() - startNanos) / 1_000_000);
            Content.Sink.write(response, true, text, callback);
        }
    }

    /** Settings of a proxy; defaults suit one application on the same machine. */
    public static final class Builder {
        private final SealstreamClient client;
        private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
        private String bearerToken;
        private Duration requestTimeout = SealstreamClient.DEFAULT_REQUEST_TIMEOUT;
        private int maxBodyBytes = 8 << 20;
        private int maxInFlight = 1024;
        private int threads = 16;

        private Builder(SealstreamClient client) {
            this.client = Objects.requireNonNull(client, "client");
        }

        /** Where to listen; loopback unless the caller names another address. */
        public Builder listen(InetSocketAddress address) {
            this.listen = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Listens on loopback at {@code port} (0: any free port). */
        public Builder port(int port) {
            return listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        }

        /** Demands {@code Authorization: Bearer <token>} on every request (the OpenAI SDKs' api key). */
        public Builder bearerToken(String token) {
            if (token != null && (token.isBlank() || token.length() < 16)) {
                throw new IllegalArgumentException("a bearer token needs at least 16 characters");
            }
            this.bearerToken = token;
            return this;
        }

        /** How long a request waits for its answer before it fails with 504 {@code timeout}. */
        public Builder requestTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the request timeout must be positive");
            }
            this.requestTimeout = timeout;
            return this;
        }

        /** The largest body read; larger ones get 413 {@code request_too_large}. */
        public Builder maxBodyBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("max body bytes must be at least 1024");
            }
            this.maxBodyBytes = bytes;
            return this;
        }

        /** Requests awaiting answers at most; more get 429 {@code too_many_requests}. */
        public Builder maxInFlight(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("max in flight must be at least 1");
            }
            this.maxInFlight = n;
            return this;
        }

        public OpenAiProxy build() {
            return new OpenAiProxy(this);
        }
    }
}
