package io.sealstream.attestation.simulated;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.attestation.Evidence;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Plays the Confidential Containers attestation agent's REST API of a Kata guest, on loopback:
 * {@code GET /aa/evidence?runtime_data=TEXT} answers what the attester makes of the runtime
 * data's bytes. {@link #serving} is a guest of the simulated SNP TEE: it answers with the simulated
 * report of those bytes, zero-padded, as the sev crate's JSON with the certificate table, as the
 * agent does. {@link #answering} plays any agent, for hostile tests.
 */
public final class SimulatedAttestationAgent implements AutoCloseable {
    /** An HTTP answer. */
    public record Answer(int status, byte[] body) {
        public static Answer ok(String json) {
            return new Answer(200, json.getBytes(StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;

    private SimulatedAttestationAgent(Function<byte[], Answer> answer) {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the simulated attestation agent to loopback", e);
        }
        server.createContext("/aa/evidence", exchange -> {
            String query = exchange.getRequestURI().getRawQuery();
            Answer a;
            if (query == null || !query.startsWith("runtime_data=") || query.contains("&")) {
                a = new Answer(405, new byte[0]); // the agent takes exactly one parameter
            } else {
                a = answer.apply(URLDecoder.decode(query.substring("runtime_data=".length()), StandardCharsets.UTF_8)
                        .getBytes(StandardCharsets.UTF_8));
            }
            exchange.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(a.body());
            }
        });
        server.start();
    }

    /** The agent of a guest of {@code tee} launched with {@code measurement}, sending the crate's JSON in {@code shape}. */
    public static SimulatedAttestationAgent serving(SimulatedSnpTee tee, byte[] measurement, SevCrateJson.Shape shape) {
        byte[] launch = measurement.clone();
        return new SimulatedAttestationAgent(runtimeData -> {
            if (runtimeData.length > 64) {
                return new Answer(500, "SNP Attester: Report data must be no more than 64 bytes".getBytes(StandardCharsets.UTF_8));
            }
            Evidence e = tee.attest(launch, Arrays.copyOf(runtimeData, 64));
            return Answer.ok(SevCrateJson.evidence(e.report(), shape, e.certificates()).toString());
        });
    }

    /** An agent that answers what {@code answer} makes of the runtime data's bytes. */
    public static SimulatedAttestationAgent answering(Function<byte[], Answer> answer) {
        return new SimulatedAttestationAgent(answer);
    }

    /** Where to reach it: {@code http://127.0.0.1:PORT}. */
    public URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
