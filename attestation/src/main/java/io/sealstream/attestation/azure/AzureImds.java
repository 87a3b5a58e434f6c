package io.sealstream.attestation.azure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * What only the Azure host can give a confidential VM, through its instance metadata service
 * (IMDS, a link-local address reachable from the VM only): the VCEK chain of the chip the VM runs
 * on (THIM, {@code /metadata/THIM/amd/certification}) and the TD quote Azure's quoting service makes
 * from a TDREPORT ({@code /acc/tdquote}). Neither is trusted: the verifier checks the VCEK chain to
 * AMD's roots and the TD quote to Intel's, and that it carries the HCL report's TDREPORT.
 */
public final class AzureImds implements AzureVtpmProvider.Host {
    /** IMDS's address, the same in every Azure VM. */
    public static final URI DEFAULT = URI.create("http://169.254.169.254");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RESPONSE = 64 * 1024;

    private final URI base;
    private final HttpClient http;

    private AzureImds(URI base) {
        this.base = base;
        // IMDS must never be reached through a proxy: the answer would come from somewhere else
        this.http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** IMDS at {@code base} ({@link #DEFAULT} in a VM; a test's server otherwise). */
    public static AzureImds at(URI base) {
        return new AzureImds(base);
    }

    /** The VCEK, ASK and ARK for this VM's chip, DER, leaf first. */
    @Override
    public List<byte[]> vcekChain() throws IOException {
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/metadata/THIM/amd/certification"))
                .header("Metadata", "true").timeout(Duration.ofSeconds(10)).GET().build();
        JsonNode answer = send(request, "the VCEK chain (THIM)");
        List<byte[]> out = new ArrayList<>();
        out.addAll(pem(answer.path("vcekCert").asText(""), "vcekCert"));
        out.addAll(pem(answer.path("certificateChain").asText(""), "certificateChain"));
        return out;
    }

    /** The TD quote Azure makes from {@code tdReport} (1024 bytes). */
    @Override
    public byte[] tdQuote(byte[] tdReport) throws IOException {
        String body = JSON.createObjectNode().put("report", Base64.getUrlEncoder().withoutPadding().encodeToString(tdReport))
                .toString();
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/acc/tdquote")).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
        JsonNode answer = send(request, "the TD quote");
        try {
            return Base64.getUrlDecoder().decode(answer.path("quote").asText("").replace('+', '-').replace('/', '_')
                    .replace("=", ""));
        } catch (IllegalArgumentException e) {
            throw new IOException("IMDS answered a TD quote that is not base64");
        }
    }

    private JsonNode send(HttpRequest request, String what) throws IOException {
        HttpResponse<java.io.InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking IMDS for " + what);
        }
        byte[] body;
        try (java.io.InputStream in = response.body()) {
            body = in.readNBytes(MAX_RESPONSE + 1); // the host answers: never read more than an answer can be
        }
        if (response.statusCode() != 200 || body.length > MAX_RESPONSE) {
            throw new IOException("IMDS answered " + response.statusCode() + " (" + (body.length > MAX_RESPONSE
                    ? "more than " + MAX_RESPONSE : body.length) + " bytes) for " + what + "; is this an Azure confidential VM?");
        }
        JsonNode n = JSON.readTree(new String(body, StandardCharsets.UTF_8));
        if (n == null || !n.isObject()) {
            throw new IOException("IMDS answered " + what + " with something other than a JSON object");
        }
        return n;
    }

    private static List<byte[]> pem(String text, String field) throws IOException {
        try {
            List<byte[]> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)))) {
                out.add(c.getEncoded());
            }
            if (out.isEmpty()) {
                throw new IOException("IMDS's THIM answer has no certificate in " + field);
            }
            return out;
        } catch (CertificateException e) {
            throw new IOException("IMDS's THIM answer has no PEM certificates in " + field);
        }
    }
}
