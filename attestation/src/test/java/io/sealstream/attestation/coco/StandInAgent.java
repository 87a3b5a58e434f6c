package io.sealstream.attestation.coco;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Plays the attestation agent's REST API on loopback: {@code GET /aa/evidence?runtime_data=TEXT}
 * answers what {@code answer} makes of the runtime data's bytes, as the agent answers with what
 * its attester makes of them.
 */
final class StandInAgent implements AutoCloseable {
    /** An HTTP answer. */
    record Answer(int status, byte[] body) {
        static Answer ok(String json) {
            return new Answer(200, json.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    final AtomicInteger requests = new AtomicInteger();

    StandInAgent(Function<byte[], Answer> answer) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/aa/evidence", exchange -> {
            requests.incrementAndGet();
            String query = exchange.getRequestURI().getRawQuery();
            Answer a;
            if (query == null || !query.startsWith("runtime_data=") || query.contains("&")) {
                a = new Answer(405, new byte[0]); // the agent takes exactly one parameter
            } else {
                byte[] runtimeData = URLDecoder.decode(query.substring("runtime_data=".length()), StandardCharsets.UTF_8)
                        .getBytes(StandardCharsets.UTF_8);
                a = answer.apply(runtimeData);
            }
            exchange.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(a.body());
            }
        });
        server.start();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
