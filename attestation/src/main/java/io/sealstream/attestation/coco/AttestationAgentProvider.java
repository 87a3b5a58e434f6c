package io.sealstream.attestation.coco;

import com.fasterxml.jackson.core.JsonParser;
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
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Evidence inside a Kata confidential container, where configfs-tsm is the guest's and not the
 * container's: the Confidential Containers attestation agent's REST API,
 * {@code GET /aa/evidence?runtime_data=TEXT}, served in the pod's guest on 127.0.0.1:8006 when the
 * guest's kernel command line carries {@code agent.guest_components_rest_api=attestation} (or
 * {@code all}). Any process of the pod can ask the agent for evidence of any text; what keeps
 * that to this service is the pod's init-data, pinned in the policy, whose Kata agent policy
 * admits this container only and no {@code exec} (docs/deployment.md).
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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AttestationAgentProvider.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final String ENABLE = "inside a Kata pod the agent serves it only when the guest's kernel command "
            + "line carries agent.guest_components_rest_api=attestation (docs/deployment.md, \"Evidence inside a Kata pod\")";

    private final URI base;
    private final TeeType tee;
    private final HttpClient http;
    private final Duration timeout;

    private AttestationAgentProvider(URI base, TeeType tee, HttpClient http, Duration timeout) {
        this.base = base;
        this.tee = tee;
        this.http = http;
        this.timeout = timeout;
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
        return open(base, tee, TIMEOUT);
    }

    /** As {@link #open(URI, TeeType)}, with {@code timeout} for each answer (tests shorten it). */
    static AttestationAgentProvider open(URI base, TeeType tee, Duration timeout) throws AttestationException {
        if (tee != TeeType.SNP && tee != TeeType.TDX) {
            throw new IllegalArgumentException("the attestation agent serves snp or tdx evidence, not " + tee.id());
        }
        AttestationAgentProvider p = new AttestationAgentProvider(checkedUrl(base), tee,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER)
                        .version(HttpClient.Version.HTTP_1_1).build(), timeout);
        byte[] probe = new byte[ReportDataBinding.LENGTH];
        new SecureRandom().nextBytes(probe);
        Evidence first = p.attest(probe);
        LOG.info("attestation.agent.opened tee={} url={} evidence_bytes={} certificates={}", tee.id(), p.base,
                first.report().length, first.certificates().size());
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

    /** {@code url} when it is {@code http://<loopback IP literal>[:port]} with no path; otherwise refused. */
    static URI checkedUrl(URI url) {
        String problem = null;
        if (!"http".equals(url.getScheme())) {
            problem = "is not an http:// URL";
        } else if (url.getHost() == null) {
            problem = "has no host this client can use (write the address in full, as 127.0.0.1)";
        } else if (url.getRawPath() != null && !url.getRawPath().isEmpty() && !url.getRawPath().equals("/")
                || url.getRawQuery() != null || url.getRawUserInfo() != null) {
            problem = "has a path, query or user part";
        } else if (!isLoopbackLiteral(url.getHost())) {
            problem = "is not a loopback IP address";
        }
        if (problem != null) {
            throw new IllegalArgumentException("the attestation agent URL " + url + " " + problem + "; the agent answers "
                    + "only inside its guest: use " + DEFAULT_URL);
        }
        return URI.create("http://" + url.getRawAuthority());
    }

    /**
     * An IPv4 literal, or an IPv6 literal in brackets, on loopback. Names are refused, localhost
     * too: they would be resolved through DNS or /etc/hosts, which the host writes.
     */
    private static boolean isLoopbackLiteral(String host) {
        boolean v4 = host.matches("(\\d{1,3}\\.){3}\\d{1,3}");
        boolean v6 = host.matches("\\[[0-9a-fA-F:]*:[0-9a-fA-F:]*\\]");
        if (!v4 && !v6) {
            return false;
        }
        try {
            // a literal: parsed, not resolved
            return InetAddress.getByName(v6 ? host.substring(1, host.length() - 1) : host).isLoopbackAddress();
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
        if (reportData.length != ReportDataBinding.LENGTH) {
            throw malformed("report_data must be " + ReportDataBinding.LENGTH + " bytes, got " + reportData.length);
        }
        Evidence evidence = evidenceOf(fetch(ReportDataBinding.asText(reportData)));
        if (evidence.tee() != tee) {
            throw new AttestationException(AttestationFailure.TEE_NOT_ALLOWED, "tee=coco-" + tee.id() + " was asked for, "
                    + "but the attestation agent at " + base + " sends " + evidence.tee().id() + " evidence");
        }
        byte[] carried = tee == TeeType.SNP ? SnpReport.parse(evidence.report()).reportData()
                : TdxQuote.parse(evidence.report()).reportData();
        if (!MessageDigest.isEqual(carried, ReportDataBinding.textReportData(reportData))) {
            throw new AttestationException(AttestationFailure.REPORT_DATA_MISMATCH, "the attestation agent at " + base
                    + " answered with evidence for other runtime data than this request's; another process may be "
                    + "using the agent, or it does not pass runtime_data on as text");
        }
        return evidence;
    }

    /**
     * The evidence an answer of the agent carries, as the verifiers take it: an SEV-SNP report
     * rebuilt to its signed bytes with the host's certificate table (checked against its VCEK where
     * the table holds one), or a TDX quote's bytes. For the provider, and for
     * {@code sealstream attestation verify} on an answer captured in a pod. Whose runtime data it
     * carries is not checked here.
     */
    public static Evidence evidenceOf(byte[] answer) throws AttestationException {
        return evidenceOf(parseAnswer(answer));
    }

    private static JsonNode parseAnswer(byte[] body) throws AttestationException {
        try {
            JsonNode json = JSON.readTree(new ByteArrayInputStream(body));
            if (json == null || !json.isObject()) {
                throw malformed("the attestation agent's answer is not a JSON object");
            }
            return json;
        } catch (IOException e) {
            throw malformed("the attestation agent's answer is not one JSON object, or names a field twice ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    private static Evidence evidenceOf(JsonNode answer) throws AttestationException {
        if (answer.has("attestation_report")) {
            return snp(answer);
        }
        if (answer.has("quote")) {
            return new Evidence(TeeType.TDX, tdxQuote(answer), List.of());
        }
        throw malformed("the attestation agent's answer holds neither an SEV-SNP attestation_report nor a TDX quote");
    }

    private JsonNode fetch(String runtimeData) throws AttestationException {
        // runtime_data is base64url, so it needs no escaping; the agent takes exactly one parameter
        URI uri = URI.create(base + "/aa/evidence?runtime_data=" + runtimeData);
        CompletableFuture<HttpResponse<byte[]>> exchange = http.sendAsync(HttpRequest.newBuilder(uri).GET().build(),
                info -> new CappedBody(MAX_EVIDENCE_BYTES));
        HttpResponse<byte[]> response;
        try {
            // one deadline for the whole answer: headers and body
            response = exchange.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            exchange.cancel(true);
            throw noAnswerInTime();
        } catch (ExecutionException e) {
            if (causedBy(e, CappedBody.TooLarge.class)) {
                throw malformed("the attestation agent's answer is over " + (MAX_EVIDENCE_BYTES >> 20) + " MiB");
            }
            if (causedBy(e, java.net.http.HttpTimeoutException.class)) {
                throw noAnswerInTime();
            }
            throw malformed("cannot reach the attestation agent at " + base + " (" + e.getCause().getClass().getSimpleName()
                    + "); " + ENABLE);
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
            throw malformed("interrupted while waiting for the attestation agent at " + base);
        }
        byte[] body = response.body();
        if (response.statusCode() != 200) {
            throw malformed("the attestation agent at " + base + " answered HTTP " + response.statusCode() + " ("
                    + printable(body) + "); " + (response.statusCode() == 404 || response.statusCode() == 403
                    ? ENABLE : "its guest's log says why"));
        }
        return parseAnswer(body);
    }

    private AttestationException noAnswerInTime() {
        return malformed("the attestation agent at " + base + " did not answer within " + timeout.toSeconds()
                + " s; its guest's log says why");
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> kind) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (kind.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** Collects a body of at most {@code limit} bytes; a longer one is cut off and fails. */
    private static final class CappedBody implements HttpResponse.BodySubscriber<byte[]> {
        /** The body ran past its limit. */
        static final class TooLarge extends IOException {
            TooLarge() {
                super("body over its limit");
            }
        }

        private final int limit;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private Flow.Subscription subscription;

        CappedBody(int limit) {
            this.limit = limit;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            for (ByteBuffer b : items) {
                if (result.isDone()) {
                    return;
                }
                if (bytes.size() + b.remaining() > limit) {
                    result.completeExceptionally(new TooLarge()); // before the cancel, whose own failure follows
                    subscription.cancel();
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                bytes.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(bytes.toByteArray());
        }
    }

    private static Evidence snp(JsonNode answer) throws AttestationException {
        JsonNode reportJson = answer.get("attestation_report");
        byte[] bytes = AgentSnpReport.toBytes(reportJson);
        SnpReport report = SnpReport.parse(bytes);
        List<byte[]> certs = certificateTable(answer.get("cert_chain"));
        if (!certs.isEmpty()) {
            try {
                SnpVerifier.verifyReportSignature(report, x509(certs.get(0)));
            } catch (AttestationException e) {
                List<String> zeroed = AgentSnpReport.zeroFilled(reportJson);
                throw malformed("the report rebuilt from the attestation agent's JSON does not verify with the VCEK of "
                        + "the certificate table the host supplied (report version " + report.version()
                        + (zeroed.isEmpty() ? "" : "; the agent does not pass on " + String.join(", ", zeroed)
                        + ", which this report version may set")
                        + "): either the agent's sev crate does not carry every field of this report (update the guest "
                        + "components, or run the service in a confidential VM with configfs-tsm, tee=snp) or the host's "
                        + "table holds another chip's certificate");
            }
        }
        return new Evidence(TeeType.SNP, bytes, certs);
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

    /**
     * The certificates of the table the host supplied with the report ({@code cert_chain}: entries
     * of {@code cert_type} and {@code data}), leaf first: the VCEK or VLEK, then ASK and ARK where
     * present. CRLs, entries of other types and entries that are not certificates are left out (the
     * host writes this table; the key broker checks the chain); no usable leaf is an empty list, and
     * the key broker then needs the VCEK from its collateral.
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
                case "VCEK", "VLEK" -> leaf = certificate(entry);
                case "ASK" -> ask = certificate(entry);
                case "ARK" -> ark = certificate(entry);
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

    /** The entry's DER certificate, trimmed of the table slot's padding; empty when it is not one. */
    private static Optional<byte[]> certificate(JsonNode entry) {
        try {
            return Optional.of(x509(AgentSnpReport.byteVector("cert_chain data", entry.get("data"), 16_384)).getEncoded());
        } catch (AttestationException | CertificateException e) {
            return Optional.empty(); // the host writes this table; the key broker checks what is left
        }
    }

    private static X509Certificate x509(byte[] der) throws AttestationException {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
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
