package io.sealstream.attestation.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the provider asks Azure's IMDS, against a local server playing it. */
class AzureImdsTest {
    private HttpServer server;
    private AzureImds imds;
    private final AtomicReference<String> metadataHeader = new AtomicReference<>();
    private final AtomicReference<String> quoteRequest = new AtomicReference<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        List<byte[]> chain = SimulatedSnpTee.shared().certificateChain();
        server.createContext("/metadata/THIM/amd/certification", x -> {
            metadataHeader.set(x.getRequestHeaders().getFirst("Metadata"));
            String body = "{\"vcekCert\":\"" + pem(chain.get(0)) + "\",\"certificateChain\":\"" + pem(chain.get(1))
                    + pem(chain.get(2)) + "\"}";
            respond(x, 200, body);
        });
        server.createContext("/acc/tdquote", x -> {
            quoteRequest.set(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            respond(x, 200, "{\"quote\":\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[] {4, 0, 2}) + "\"}");
        });
        server.start();
        imds = AzureImds.at(URI.create("http://127.0.0.1:" + server.getAddress().getPort()));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void theVcekChainComesFromThimWithTheMetadataHeaderLeafFirst() throws Exception {
        List<byte[]> chain = imds.vcekChain();

        assertThat(metadataHeader.get()).isEqualTo("true");
        assertThat(chain).hasSize(3);
        assertThat(chain.get(0)).isEqualTo(SimulatedSnpTee.shared().certificateChain().get(0));
    }

    @Test
    void theTdQuoteIsAskedForWithTheTdReportInBase64Url() throws Exception {
        byte[] tdReport = new byte[1024];
        tdReport[128] = (byte) 0xFB; // makes '+' or '/' likely in standard base64, '-' or '_' in base64url

        byte[] quote = imds.tdQuote(tdReport);

        assertThat(quote).containsExactly(4, 0, 2);
        assertThat(quoteRequest.get()).contains("\"report\":\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(tdReport));
    }

    @Test
    void aFailingImdsIsAnErrorThatSaysWhatWasAskedFor() {
        server.removeContext("/metadata/THIM/amd/certification");
        server.createContext("/metadata/THIM/amd/certification", x -> respond(x, 404, "{}"));

        IOException e = catchThrowableOfType(IOException.class, () -> imds.vcekChain());

        assertThat(e.getMessage()).contains("404").contains("VCEK chain");
    }

    @Test
    void anOversizedAnswerIsRefusedBeforeItIsParsed() {
        server.removeContext("/acc/tdquote");
        server.createContext("/acc/tdquote", x -> respond(x, 200, "{\"quote\":\"" + "A".repeat(100_000) + "\"}"));

        IOException e = catchThrowableOfType(IOException.class, () -> imds.tdQuote(new byte[1024]));

        assertThat(e.getMessage()).contains("TD quote").contains("bytes");
    }

    private static String pem(byte[] der) {
        return "-----BEGIN CERTIFICATE-----\\n" + Base64.getEncoder().encodeToString(der) + "\\n-----END CERTIFICATE-----\\n";
    }

    private static void respond(com.sun.net.httpserver.HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
        x.close();
    }
}
