package io.sealstream.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceRequest;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
    private static final Logger LOG = LoggerFactory.getLogger(OpenAiProxy.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Request bodies read at once; more get 429, so slow uploads cannot hold memory or every slot. */
    static final int MAX_CONCURRENT_READS = 32;
    /** An idle connection (no request, or a stalled upload) is closed after this. */
    private static final Duration IDLE = Duration.ofSeconds(30);

    private final SealstreamClient client;
    private final InetSocketAddress listen;
    private final byte[] bearerToken;
    private final Duration requestTimeout;
    private final int maxBodyBytes;
    private final int maxInFlight;
    private final AccessLog accessLog = new AccessLog();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Semaphore reads = new Semaphore(MAX_CONCURRENT_READS);
    private final Set<Exchange> awaiting = ConcurrentHashMap.newKeySet();
    private final Server server;
    private final ServedModels models;
    private final BatchApi batches;
    /** Seals and sends: the SDK may block (a session renewal calls the key broker; Kafka may be slow), never on Jetty's threads. */
    private final ThreadPoolExecutor sender;
    private volatile boolean closing;

    private OpenAiProxy(Builder b) {
        this.client = b.client;
        this.listen = b.listen;
        this.bearerToken = b.bearerToken == null ? null : b.bearerToken.getBytes(StandardCharsets.UTF_8);
        this.requestTimeout = b.requestTimeout;
        this.maxBodyBytes = b.maxBodyBytes;
        this.maxInFlight = b.maxInFlight;
        this.models = new ServedModels(client);
        this.sender = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(b.maxInFlight), r -> {
            Thread t = new Thread(r, "sealstream-proxy-send");
            t.setDaemon(true);
            return t;
        });
        QueuedThreadPool threads = new QueuedThreadPool(b.threads, 2, 60_000);
        threads.setName("sealstream-proxy");
        threads.setDaemon(true);
        this.server = new Server(threads);
        this.batches = b.stateDirectory == null ? null : new BatchApi(client, b.stateDirectory, requestTimeout,
                server.getByteBufferPool());
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(true);
        http.setRequestHeaderSize(16 << 10);
        ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(listen.getHostString());
        connector.setPort(listen.getPort());
        connector.setIdleTimeout(IDLE.toMillis());
        // stop() itself waits for the requests in flight; what is still open then is idle
        connector.setShutdownIdleTimeout(1_000);
        server.addConnector(connector);
        // open connections at most: every request awaiting an answer, and some to be refused on
        server.addBean(new NetworkConnectionLimit(b.maxInFlight + 64, connector));
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
        models.policy(verified.policy());
        server.start();
        if (batches != null) {
            batches.resume();
        }
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

    /**
     * Stops: refuses new requests (503 {@code proxy_closing}), waits up to the request timeout for
     * those in flight to be answered, answers what is left with 503, stops running batches (they
     * resume at the next start), then closes. The client stays open.
     *
     * @return requests that were answered with 503 instead of their answer
     */
    public int stop() throws Exception {
        closing = true;
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        int dropped = 0;
        for (Exchange ex : awaiting) {
            if (!ex.isDone()) {
                ex.fail(ProxyError.closing()); // a stream under way ends with it as an error event
                dropped++;
            }
        }
        if (batches != null) {
            batches.close();
        }
        try {
            server.stop();
        } catch (java.util.concurrent.TimeoutException idleConnectionsLeft) {
            // every exchange is answered; connections still open are closed by the stop regardless
        }
        sender.shutdownNow();
        return dropped;
    }

    @Override
    public void close() throws Exception {
        if (server.isStarted() || server.isStarting()) {
            stop();
        } else {
            sender.shutdownNow();
            server.stop();
        }
    }

    /** Routes by path; every answer, refusal or failure ends in exactly one response and one access-log line. */
    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            String route = switch (path) {
                case "/v1/embeddings", "/v1/chat/completions", "/v1/models" -> path;
                default -> BatchApi.route(path);
            };
            Exchange ex = new Exchange(request, response, callback, accessLog, route);
            try {
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
                            listModels(ex);
                        }
                    }
                    case "/v1/embeddings", "/v1/chat/completions" -> {
                        if (!"POST".equals(request.getMethod())) {
                            ex.fail(ProxyError.methodNotAllowed("POST"));
                        } else {
                            post(ex);
                        }
                    }
                    case "(other)" -> ex.fail(ProxyError.notFound("this path"));
                    default -> {
                        if (batches == null) {
                            ex.fail(ProxyError.notFound("the Batch API (the proxy was started without a state "
                                    + "directory)"));
                        } else if (closing) {
                            ex.fail(ProxyError.closing());
                        } else {
                            batches.handle(ex, path);
                        }
                    }
                }
            } catch (Throwable t) {
                failed(ex, t);
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
                byte[] given = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)
                        ? auth.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
                if (!MessageDigest.isEqual(given, bearerToken)) {
                    return ProxyError.unauthorized();
                }
            }
            return null;
        }

        private void post(Exchange ex) {
            if (ex.request.getLength() > maxBodyBytes) {
                ex.fail(ProxyError.tooLarge(maxBodyBytes));
                return;
            }
            if (closing) {
                ex.fail(ProxyError.closing());
                return;
            }
            if (!reads.tryAcquire()) {
                ex.fail(ProxyError.busyUploading(MAX_CONCURRENT_READS));
                return;
            }
            Content.Source.asByteArrayAsync(ex.request, maxBodyBytes).whenComplete((bytes, readFailure) -> {
                reads.release();
                try {
                    if (readFailure != null) {
                        Throwable why = readFailure instanceof CompletionException c && c.getCause() != null
                                ? c.getCause() : readFailure;
                        boolean overLimit = why instanceof IllegalStateException || why instanceof IllegalArgumentException
                                || why instanceof java.nio.BufferOverflowException;
                        ex.fail(overLimit ? ProxyError.tooLarge(maxBodyBytes) : ProxyError.unreadable());
                        return;
                    }
                    admitParsed(ex, bytes);
                } catch (Throwable t) {
                    failed(ex, t);
                }
            });
        }

        /** Counts the request in flight once its body is read, parses it, and hands it to the sender. */
        private void admitParsed(Exchange ex, byte[] bytes) {
            JsonNode body;
            try {
                body = JSON.readTree(bytes);
            } catch (IOException e) {
                ex.fail(ProxyError.notJson());
                return;
            }
            if (inFlight.incrementAndGet() > maxInFlight) {
                inFlight.decrementAndGet();
                ex.fail(ProxyError.busy(maxInFlight));
                return;
            }
            ex.onAnswered(inFlight::decrementAndGet);
            awaiting.add(ex);
            ex.onAnswered(() -> awaiting.remove(ex));
            // the answer may take minutes: the connection is not idle while the request waits for it
            ex.request.addIdleTimeoutListener(timeout -> false);
            String requestId = SealstreamClient.newRequestId();
            ex.requestId = requestId;
            boolean embeddings = ex.route.equals("/v1/embeddings");
            InferenceRequest request;
            boolean base64 = false;
            boolean stream = false;
            boolean usage = false;
            if (embeddings) {
                OpenAiRequests.Embeddings e = OpenAiRequests.embeddings(body, "", true);
                request = e.request();
                base64 = e.base64();
            } else {
                OpenAiRequests.Chat chat = OpenAiRequests.chat(body, "", true);
                request = chat.request();
                stream = chat.stream();
                usage = chat.includeUsage();
            }
            ex.model = request.getModel();
            boolean asBase64 = base64;
            boolean asStream = stream;
            boolean withUsage = usage;
            try {
                sender.execute(() -> {
                    try {
                        if (asStream) {
                            StreamedCompletion streamed = new StreamedCompletion(ex, requestId, request.getModel(),
                                    withUsage);
                            client.answerStreaming(requestId, request, requestTimeout, streamed::text)
                                    .whenCompleteAsync((answer, failure) -> {
                                        try {
                                            if (failure != null) {
                                                streamed.failed(ProxyError.of(failure));
                                            } else if (!(answer.body().getOutput() instanceof ChatResult)) {
                                                streamed.failed(ProxyError.unexpectedOutput(ex.route));
                                            } else {
                                                models.saw(answer);
                                                streamed.answered(answer);
                                            }
                                        } catch (Throwable t) {
                                            failed(ex, t);
                                        }
                                    }, answerExecutor());
                            return;
                        }
                        client.answer(requestId, request, requestTimeout).whenCompleteAsync((answer, failure) -> {
                            try {
                                if (failure != null) {
                                    ex.fail(ProxyError.of(failure));
                                } else if (!(answer.body().getOutput() instanceof ChatResult) && !embeddings
                                        || !(answer.body().getOutput() instanceof EmbeddingsResult) && embeddings) {
                                    ex.fail(ProxyError.unexpectedOutput(ex.route));
                                } else {
                                    models.saw(answer);
                                    ex.json(200, OpenAiBodies.answer(requestId, answer.body(), answer.provenance(),
                                            asBase64));
                                }
                            } catch (Throwable t) {
                                failed(ex, t);
                            }
                        }, answerExecutor());
                    } catch (Throwable t) {
                        failed(ex, t);
                    }
                });
            } catch (RejectedExecutionException full) {
                ex.fail(closing ? ProxyError.closing() : ProxyError.busy(maxInFlight));
            }
        }
    }

    /** Lists the models on the sender's threads: a reading of the log calls the key broker. */
    private void listModels(Exchange ex) {
        try {
            sender.execute(() -> {
                try {
                    ex.json(200, models.list());
                } catch (Throwable t) {
                    failed(ex, t);
                }
            });
        } catch (RejectedExecutionException full) {
            ex.fail(closing ? ProxyError.closing() : ProxyError.busy(maxInFlight));
        }
    }

    /** Answers a failure the routes did not foresee: its class and the request id go to the log, never its message. */
    private static void failed(Exchange ex, Throwable t) {
        if (!(t instanceof io.sealstream.client.SealstreamException) && !(t instanceof IllegalArgumentException)) {
            LOG.warn("proxy.request.failed route={} request_id={} error={}", ex.route,
                    ex.requestId == null ? "-" : ex.requestId, t.getClass().getName());
        }
        ex.fail(ProxyError.of(t));
    }

    /**
     * Renders answers on the proxy's threads, not on the SDK's response listener; when those are
     * stopped or full, on the thread that completes the answer, so no answer is left unwritten.
     */
    private Executor answerExecutor() {
        return r -> {
            try {
                server.getThreadPool().execute(r);
            } catch (RejectedExecutionException e) {
                r.run();
            }
        };
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

    /** Settings of a proxy; defaults suit one application on the same machine. */
    public static final class Builder {
        private final SealstreamClient client;
        private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 8080);
        private String bearerToken;
        private Duration requestTimeout = SealstreamClient.DEFAULT_REQUEST_TIMEOUT;
        private int maxBodyBytes = 8 << 20;
        private int maxInFlight = 1024;
        private int threads = 16;
        private Path stateDirectory;

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

        /**
         * Where the Batch API keeps uploaded files, batch outputs and job journals (plaintext:
         * the directory is made owner-only). Without one, {@code /v1/files} and {@code /v1/batches}
         * answer 404.
         */
        public Builder stateDirectory(Path dir) {
            this.stateDirectory = dir;
            return this;
        }

        public OpenAiProxy build() {
            if (bearerToken == null && !listen.getAddress().isLoopbackAddress()) {
                throw new IllegalStateException(listen + " is reachable from other machines: set a bearer token");
            }
            return new OpenAiProxy(this);
        }
    }
}
