package io.sealstream.keybroker.client;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.CustodyStatus;
import io.sealstream.keybroker.api.HandoverGrant;
import io.sealstream.keybroker.api.HandoverRequest;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.RecoveryOffer;
import io.sealstream.keybroker.api.PolicyChallenge;
import io.sealstream.keybroker.api.PolicyChange;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.api.ErrorBody;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.api.KeyBrokerPaths;
import io.sealstream.keybroker.api.KeyRelease;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.keybroker.api.LogEntries;
import io.sealstream.keybroker.api.LogHead;
import io.sealstream.keybroker.api.LogKey;
import io.sealstream.keybroker.api.LogProof;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.api.TopicList;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * An HTTP client of the key broker, for workers (attest, fetch keys) and the client SDK (public
 * keys with the broker's evidence). A refused call is a {@link KeyBrokerException} carrying the
 * broker's status, code and message; an unreachable broker is a 503 {@code unreachable}.
 */
public final class KeyBrokerClient {
    private final String baseUrl;
    private final HttpClient http;
    private final Duration timeout;
    private final ObjectMapper json = KeyBrokerJson.mapper();

    public KeyBrokerClient(String baseUrl, Duration timeout) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    public AuthChallenge challenge() throws KeyBrokerException {
        return send(post(KeyBrokerPaths.AUTH, "{}"), AuthChallenge.class);
    }

    public LeaseGrant attest(AttestRequest request) throws KeyBrokerException {
        try {
            return send(post(KeyBrokerPaths.ATTEST, json.writeValueAsString(request)), LeaseGrant.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("encoding an attestation request failed", e);
        }
    }

    public KeyRelease keys(String token, String topic) throws KeyBrokerException {
        return send(HttpRequest.newBuilder(uri(KeyBrokerPaths.KEYS + encode(topic))).timeout(timeout)
                .header("Authorization", "Bearer " + token).GET().build(), KeyRelease.class);
    }

    /** The request topic families the broker holds keysets for: a hint, bound to nothing. */
    public TopicList topics() throws KeyBrokerException {
        return send(HttpRequest.newBuilder(uri(KeyBrokerPaths.KEYS)).timeout(timeout).GET().build(), TopicList.class);
    }

    public PublicTopicKeys publicKeys(String topic, byte[] nonce) throws KeyBrokerException {
        String n = Base64.getUrlEncoder().withoutPadding().encodeToString(nonce);
        return send(HttpRequest.newBuilder(uri(KeyBrokerPaths.KEYS + encode(topic) + KeyBrokerPaths.PUBLIC_SUFFIX
                + "?nonce=" + n)).timeout(timeout).GET().build(), PublicTopicKeys.class);
    }

    /** How the broker holds its root, and whether it serves keys. */
    public CustodyStatus custody() throws KeyBrokerException {
        return send(HttpRequest.newBuilder(uri(KeyBrokerPaths.CUSTODY)).timeout(timeout).GET().build(), CustodyStatus.class);
    }

    /** Asks a running replica for the root (the joining replica's side). */
    public HandoverGrant handover(HandoverRequest request) throws KeyBrokerException {
        return send(post(KeyBrokerPaths.CUSTODY_HANDOVER, encodeJson(request)), HandoverGrant.class);
    }

    /** The owner's first step of a recovery: the broker's escrow and its TEE key bound to {@code ownerNonce}. */
    public RecoveryOffer recoveryOffer(byte[] ownerNonce) throws KeyBrokerException {
        String n = Base64.getUrlEncoder().withoutPadding().encodeToString(ownerNonce);
        return send(HttpRequest.newBuilder(uri(KeyBrokerPaths.CUSTODY_RECOVERY + "?nonce=" + n)).timeout(timeout)
                .GET().build(), RecoveryOffer.class);
    }

    /** The owner's second step: the root sealed to the offer's TEE key. */
    public CustodyStatus recover(RecoveryDelivery delivery) throws KeyBrokerException {
        return send(post(KeyBrokerPaths.CUSTODY_RECOVERY, encodeJson(delivery)), CustodyStatus.class);
    }

    /** The owner's first step of a policy change. */
    public PolicyChallenge policyChallenge() throws KeyBrokerException {
        return send(post(KeyBrokerPaths.POLICY_CHALLENGE, "{}"), PolicyChallenge.class);
    }

    /** The owner's second step: the new policy MAC'd under the challenge. */
    public PolicyChanged changePolicy(PolicyChange change) throws KeyBrokerException {
        return send(post(KeyBrokerPaths.POLICY, encodeJson(change)), PolicyChanged.class);
    }

    /** The transparency log's latest signed tree head, unverified: check it with {@link io.sealstream.transparency.LogMonitor}. */
    public LogHead logHead() throws KeyBrokerException {
        return get(KeyBrokerPaths.LOG_HEAD, LogHead.class);
    }

    /** Log entries {@code start} to {@code end - 1} (at most 256). */
    public LogEntries logEntries(long start, long end) throws KeyBrokerException {
        return get(KeyBrokerPaths.LOG_ENTRIES + "?start=" + start + "&end=" + end, LogEntries.class);
    }

    /** The audit path of entry {@code index} in the tree of {@code size}. */
    public LogProof inclusionProof(long index, long size) throws KeyBrokerException {
        return get(KeyBrokerPaths.LOG_INCLUSION + "?index=" + index + "&size=" + size, LogProof.class);
    }

    /** The consistency proof between the trees of {@code first} and {@code second} entries. */
    public LogProof consistencyProof(long first, long second) throws KeyBrokerException {
        return get(KeyBrokerPaths.LOG_CONSISTENCY + "?first=" + first + "&second=" + second, LogProof.class);
    }

    /** The key the log signs heads with, for writing into connection files; clients pin theirs. */
    public LogKey logKey() throws KeyBrokerException {
        return get(KeyBrokerPaths.LOG_KEY, LogKey.class);
    }

    /**
     * This broker's log as {@link io.sealstream.transparency.LogMonitor} reads it; a broker that
     * cannot be reached or answers something else is an {@link IOException} naming why.
     */
    public io.sealstream.transparency.LogMonitor.LogSource logSource() {
        return new io.sealstream.transparency.LogMonitor.LogSource() {
            @Override
            public io.sealstream.transparency.SignedTreeHead head() throws IOException {
                try {
                    return logHead().toTreeHead();
                } catch (KeyBrokerException | IllegalArgumentException | java.time.DateTimeException e) {
                    throw new IOException("cannot read the transparency log's head from " + baseUrl + ": " + e.getMessage(), e);
                }
            }

            @Override
            public List<byte[]> consistencyProof(long first, long second) throws IOException {
                try {
                    return hashes(KeyBrokerClient.this.consistencyProof(first, second));
                } catch (KeyBrokerException e) {
                    throw new IOException("cannot read a consistency proof from " + baseUrl + ": " + e.getMessage(), e);
                }
            }

            @Override
            public List<byte[]> inclusionProof(long index, long size) throws IOException {
                try {
                    return hashes(KeyBrokerClient.this.inclusionProof(index, size));
                } catch (KeyBrokerException e) {
                    throw new IOException("cannot read an inclusion proof from " + baseUrl + ": " + e.getMessage(), e);
                }
            }

            @Override
            public List<byte[]> entries(long start, long end) throws IOException {
                try {
                    LogEntries served = logEntries(start, end);
                    return served == null || served.entries() == null || served.start() != start ? List.of()
                            : served.entries();
                } catch (KeyBrokerException e) {
                    throw new IOException("cannot read log entries from " + baseUrl + ": " + e.getMessage(), e);
                }
            }
        };
    }

    private static List<byte[]> hashes(LogProof proof) {
        return proof == null || proof.hashes() == null ? List.of() : proof.hashes();
    }

    private <T> T get(String pathAndQuery, Class<T> type) throws KeyBrokerException {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).timeout(timeout).GET().build(), type);
    }

    private String encodeJson(Object body) {
        try {
            return json.writeValueAsString(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("encoding a " + body.getClass().getSimpleName() + " failed", e);
        }
    }

    public String baseUrl() {
        return baseUrl;
    }

    private HttpRequest post(String path, String body) {
        return HttpRequest.newBuilder(uri(path)).timeout(timeout).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private <T> T send(HttpRequest request, Class<T> type) throws KeyBrokerException {
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new KeyBrokerException(503, "unreachable", "the key broker at " + baseUrl + " is unreachable ("
                    + e.getClass().getSimpleName() + "); check the key broker URL and that it runs");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeyBrokerException(503, "unreachable", "interrupted while calling the key broker");
        }
        try {
            if (response.statusCode() == 200) {
                return json.readValue(response.body(), type);
            }
            ErrorBody error = json.readValue(response.body(), ErrorBody.class);
            // the answer may come from whoever sits between: printable and short before it reaches a message
            throw new KeyBrokerException(response.statusCode(), shortPrintable(error.error(), 64),
                    shortPrintable(error.message(), 1000));
        } catch (IOException e) {
            throw new KeyBrokerException(502, "bad_answer", "the key broker at " + baseUrl + " answered HTTP "
                    + response.statusCode() + " with a body that is not its API; check the key broker URL");
        }
    }

    /** {@code s} without control or formatting characters (terminal escapes, bidi overrides), at most {@code max} long. */
    private static String shortPrintable(String s, int max) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), max + 1));
        for (int i = 0; i < s.length() && b.length() < max; i++) {
            char c = s.charAt(i);
            b.append(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                    || Character.isSurrogate(c) ? '?' : c);
        }
        return s.length() > max ? b + "…" : b.toString();
    }

    private URI uri(String path) {
        return URI.create(baseUrl + path);
    }

    private static String encode(String topic) {
        return URLEncoder.encode(topic, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return "KeyBrokerClient[" + baseUrl + "]";
    }
}
