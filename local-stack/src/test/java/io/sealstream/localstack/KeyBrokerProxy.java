package io.sealstream.localstack;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The network between a worker and the key broker, in the attacker's (or the operator's) hands:
 * forwards every call and lets a test rewrite the answer.
 */
final class KeyBrokerProxy implements AutoCloseable {
    /** An answer as the worker will see it. */
    record Answer(int status, byte[] body) {
        static Answer json(int status, String json) {
            return new Answer(status, json.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Decides what the worker gets for a call to {@code path} the broker answered with {@code genuine}. */
    interface Rewrite {
        Answer answer(String path, Answer genuine);
    }

    private final HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String target;
    private volatile Rewrite rewrite = (path, genuine) -> genuine;

    KeyBrokerProxy(String target) throws IOException {
        this.target = target;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    void rewrite(Rewrite rewrite) {
        this.rewrite = rewrite;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target + ex.getRequestURI()))
                    .method(ex.getRequestMethod(), body.length == 0 ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            for (String h : List.of("Authorization", "Content-Type")) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) {
                    b.header(h, v);
                }
            }
            Answer genuine;
            try {
                HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                genuine = new Answer(r.statusCode(), r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                genuine = Answer.json(502, "{\"error\":\"proxy\",\"message\":\"interrupted\"}");
            }
            Answer answer = rewrite.answer(ex.getRequestURI().getPath(), genuine);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(answer.status(), answer.body().length == 0 ? -1 : answer.body().length);
            if (answer.body().length > 0) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(answer.body());
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
