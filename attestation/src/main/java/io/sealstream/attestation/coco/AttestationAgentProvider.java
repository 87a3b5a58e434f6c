package io.sealstream.attestation.coco;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.snp.SnpReport;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxQuote;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Evidence inside a Kata confidential container, where configfs-tsm is the guest's and not the
 * container's: the Confidential Containers attestation agent's REST API,
 * {@code GET /aa/evidence?runtime_data=TEXT}, served in the pod's guest on 127.0.0.1:8006 when the
 * guest's kernel command line carries {@code agent.guest_components_rest_api=all}.
 *
 * <p>The agent puts the UTF-8 bytes of {@code runtime_data}, zero-padded, into report_data, so the
 * binding travels as {@link ReportDataBinding#asText text}; every answer is checked to carry that
 * text. For TDX the agent sends the quote's bytes (base64); for SEV-SNP it sends the report as
 * JSON fields, which {@link AgentSnpReport} places back into the signed layout, and the firmware's
 * certificate table. Where that table holds the VCEK or VLEK, the rebuilt report is checked
 * against it here, so a report the agent could not pass on whole fails in the TEE with a reason,
 * not as a bad signature at the key broker. Nothing here is trusted: the key broker verifies the
 * evidence as it verifies configfs-tsm's.
 */
public final class AttestationAgentProvider implements EvidenceProvider {
    /** Where a Kata guest serves the agent's API to its containers. */
    public static final URI DEFAULT_URL = URI.create("http://127.0.0.1:8006");
    /** The agent's answer at most: a report or quote, its certificates and the TDX event log. */
    static final int MAX_EVIDENCE_BYTES = 4 << 20;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ENABLE = "inside a Kata pod the agent serves it only when the guest's kernel command "
            + "line carries agent.guest_components_rest_api=all (docs/deployment.md, \"Evidence inside a Kata pod\")";

    private final URI base;
    private final TeeType tee;
    private final HttpClient http;

    private AttestationAgentProvider(URI base, TeeType tee, HttpClient http) {
        this.base = base;
        this.tee = tee;
        this.http = http;
    }

    /**
     * A provider for {@code tee} (SNP or TDX) through the agent at {@code base}, which must be a
     * plain {@code http} URL on a loopback address: the agent answers only its own guest. One
     * report is asked for at once, so a missing or mismatched agent stops the service as it starts.
     *
     * @throws IllegalArgumentException for a URL that is not http on loopback, or a TEE the agent does not serve
     * @throws AttestationException when the agent cannot be reached or answers for another TEE
     */
    public static AttestationAgentProvider open(URI base, TeeType tee) throws AttestationException {
        if (tee != TeeType.SNP && tee != TeeType.TDX) {
            throw new IllegalArgumentException("the attestation agent serves snp or tdx evidence, not " + tee.id());
        }
        AttestationAgentProvider p = new AttestationAgentProvider(checkedUrl(base), tee,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER)
                        .version(HttpClient.Version.HTTP_1_1).build());
        byte[] probe = new byte[ReportDataBinding.LENGTH];
        new SecureRandom().nextBytes(probe);
        p.attest(probe);
        return p;
    }

    /** The agent URL {@code text} names, checked as {@link #open} checks it. */
    public static URI url(String text) {
        try {
            return checkedUrl(new URI(text));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("'" + text + "' is not a URL; use " + DEFAULT_URL);
        }
    }

    /** {@code url} when it is {@code http://<loopback literal or localhost>[:port]} with no path; otherwise refused. */
    static URI checkedUrl(URI url) {
        String problem = null;
        if (!"http".equals(url.getScheme()) || url.getHost() == null) {
            problem = "is not an http:// URL";
        } else if (url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/")
                || url.getRawQuery() != null || url.getRawUserInfo() != null) {
            problem = "has a path, query or user part";
        } else if (!isLoopback(url.getHost())) {
            problem = "is not on a loopback address";
        }
        if (problem != null) {
            throw new IllegalArgumentException("the attestation agent URL " + url + " " + problem + "; the agent answers "
                    + "only inside its guest: use " + DEFAULT_URL);
        }
        return URI.create("http://" + url.getRawAuthority());
    }

    private static boolean isLoopback(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (h.equals("localhost")) {
            return true;
        }
        if (!h.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false; // a name would be resolved through DNS, which the host controls
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public TeeType tee() {
        return tee;
    }

    @Override
    public Evidence attest(byte[] reportData) throws AttestationException {
        String text = ReportDataBinding.asText(reportData);
        JsonNode answer = fetch(text);
        byte[] expected = ReportDataBinding.textReportData(reportData);
        return tee == TeeType.SNP ? snp(answer, expected) : tdx(answer, expected);
    }

    private JsonNode fetch(String runtimeData) throws AttestationException {
        // runtime_data is base64url, so it needs no escaping; the agent takes exactly one parameter
        URI uri = URI.create(base + "/aa/evidence?runtime_data=" + runtimeData);
        HttpResponse<InputStream> response;
        try {
            response = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw malformed("cannot reach the attestation agent at " + base + " (" + e.getClass().getSimpleName()
                    + "); " + ENABLE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw malformed("interrupted while waiting for the attestation agent at " + base);
        }
        byte[] body;
        try (InputStream in = response.body()) {
            body = in.readNBytes(MAX_EVIDENCE_BYTES + 1);
        } catch (IOException e) {
            throw malformed("the attestation agent at " + base + " broke off its answer (" + e.getClass().getSimpleName() + ")");
        }
        if (response.statusCode() != 200) {
            throw malformed("the attestation agent at " + base + " answered HTTP " + response.statusCode() + " ("
                    + printable(body) + "); " + (response.statusCode() == 404 || response.statusCode() == 403
                    ? ENABLE : "its guest's log says why"));
        }
        if (body.length > MAX_EVIDENCE_BYTES) {
            throw malformed("the attestation agent's answer is over " + (MAX_EVIDENCE_BYTES >> 20) + " MiB");
        }
        try {
            JsonNode json = JSON.readTree(new ByteArrayInputStream(body));
            if (json == null || !json.isObject()) {
                throw malformed("the attestation agent's answer is not a JSON object");
            }
            return json;
        } catch (IOException e) {
            throw malformed("the attestation agent's answer is not JSON (" + e.getClass().getSimpleName() + ")");
        }
    }

    private Evidence snp(JsonNode answer, byte[] expectedReportData) throws AttestationException {
        if (!answer.has("attestation_report")) {
            throw otherTee(answer);
        }
        JsonNode reportJson = answer.get("attestation_report");
        byte[] bytes = AgentSnpReport.toBytes(reportJson);
        SnpReport report = SnpReport.parse(bytes);
        List<byte[]> certs = certificateTable(answer.get("cert_chain"));
        if (!certs.isEmpty()) {
            try {
                SnpVerifier.verifyReportSignature(report, x509(certs.get(0)));
            } catch (AttestationException e) {
                List<String> zeroed = AgentSnpReport.zeroFilled(reportJson);
                throw malformed("the report rebuilt from the attestation agent's JSON is not what the firmware signed "
                        + "(report version " + report.version() + (zeroed.isEmpty() ? "" : "; the agent does not pass on "
                        + String.join(", ", zeroed) + ", which this report version may set")
                        + "); the agent's sev crate does not carry every field of this report: update the guest "
                        + "components, or run the service in a confidential VM with configfs-tsm (tee=snp)");
            }
        }
        checkReportData(report.reportData(), expectedReportData);
        return new Evidence(TeeType.SNP, bytes, certs);
    }

    private Evidence tdx(JsonNode answer, byte[] expectedReportData) throws AttestationException {
        if (!answer.has("quote")) {
            throw otherTee(answer);
        }
        byte[] bytes = tdxQuote(answer);
        checkReportData(TdxQuote.parse(bytes).reportData(), expectedReportData);
        return new Evidence(TeeType.TDX, bytes, List.of());
    }

    /** The quote's bytes from the agent's TDX answer ({@code quote}, base64; the event logs beside it are not used). */
    static byte[] tdxQuote(JsonNode answer) throws AttestationException {
        JsonNode quote = answer.get("quote");
        if (quote == null || !quote.isTextual()) {
            throw malformed("the attestation agent's TDX quote is not a base64 string");
        }
        try {
            return Base64.getDecoder().decode(quote.asText());
        } catch (IllegalArgumentException e) {
            throw malformed("the attestation agent's TDX quote is not base64");
        }
    }

    private void checkReportData(byte[] actual, byte[] expected) throws AttestationException {
        if (!MessageDigest.isEqual(actual, expected)) {
            throw new AttestationException(AttestationFailure.REPORT_DATA_MISMATCH, "the attestation agent at " + base
                    + " answered with evidence for other runtime data than this request's; another process may be "
                    + "using the agent, or it does not pass runtime_data on as text");
        }
    }

    private AttestationException otherTee(JsonNode answer) {
        String seen = answer.has("attestation_report") ? "snp" : answer.has("quote") ? "tdx" : "neither snp nor tdx";
        return new AttestationException(AttestationFailure.TEE_NOT_ALLOWED, "tee=coco-" + tee.id() + " was asked for, but "
                + "the attestation agent at " + base + " sends " + seen + " evidence");
    }

    /**
     * The certificates of the firmware's table ({@code cert_chain}: entries of {@code cert_type}
     * and {@code data}), leaf first: the VCEK or VLEK, then ASK and ARK where present. CRLs and
     * entries of other types are left out; no table is an empty list (the key broker then needs
     * the VCEK from its collateral).
     */
    static List<byte[]> certificateTable(JsonNode table) throws AttestationException {
        if (table == null || table.isNull()) {
            return List.of();
        }
        if (!table.isArray() || table.size() > 16) {
            throw malformed("the attestation agent's cert_chain is not a list of at most 16 entries");
        }
        Optional<byte[]> leaf = Optional.empty();
        Optional<byte[]> ask = Optional.empty();
        Optional<byte[]> ark = Optional.empty();
        for (JsonNode entry : table) {
            JsonNode type = entry.get("cert_type");
            if (type == null || !type.isTextual()) {
                continue; // OTHER(guid) and anything newer: not a certificate this verifier uses
            }
            switch (type.asText()) {
                case "VCEK", "VLEK" -> leaf = Optional.of(certificateBytes(entry));
                case "ASK" -> ask = Optional.of(certificateBytes(entry));
                case "ARK" -> ark = Optional.of(certificateBytes(entry));
                default -> {
                    // CRL, Empty
                }
            }
        }
        if (leaf.isEmpty()) {
            return List.of();
        }
        List<byte[]> out = new ArrayList<>();
        out.add(leaf.get());
        ask.ifPresent(out::add);
        ark.ifPresent(out::add);
        return out;
    }

    private static byte[] certificateBytes(JsonNode entry) throws AttestationException {
        JsonNode data = entry.get("data");
        if (data == null || !data.isArray() || data.size() == 0 || data.size() > 16_384) {
            throw malformed("a certificate in the attestation agent's cert_chain is not an array of 1 to 16384 bytes");
        }
        byte[] der = new byte[data.size()];
        for (int i = 0; i < der.length; i++) {
            JsonNode b = data.get(i);
            if (!b.isIntegralNumber() || b.asLong() < 0 || b.asLong() > 255) {
                throw malformed("a certificate in the attestation agent's cert_chain has a value that is not a byte");
            }
            der[i] = (byte) b.asInt();
        }
        // the firmware pads certificates to their table slot; the DER's own length says where one ends
        return trimToDer(der);
    }

    private static byte[] trimToDer(byte[] der) throws AttestationException {
        try {
            X509Certificate c = x509(der);
            byte[] encoded = c.getEncoded();
            return Arrays.equals(encoded, 0, encoded.length, der, 0, Math.min(der.length, encoded.length)) ? encoded : der;
        } catch (CertificateException | AttestationException e) {
            throw malformed("a certificate in the attestation agent's cert_chain is not an X.509 certificate");
        }
    }

    private static X509Certificate x509(byte[] der) throws AttestationException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw malformed("a certificate in the attestation agent's cert_chain is not an X.509 certificate");
        }
    }

    private static String printable(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", "?");
        return s.isEmpty() ? "no body" : s;
    }

    private static AttestationException malformed(String detail) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, detail);
    }

}
