package io.sealstream.envelope;

import com.google.crypto.tink.subtle.AesGcmJce;
import com.google.crypto.tink.subtle.Hkdf;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * Envelope protocol v1 (docs/protocol.md): labels, derivations and the AEAD layout shared by the
 * client and the worker, so both sides compute them in exactly one place.
 */
public final class EnvelopeProtocol {
    /** The protocol version written into and required of every envelope. */
    public static final int VERSION = 1;
    /** The default request topic family: clients send to {@code sealstream.requests.<client_id>}. */
    public static final String REQUEST_TOPIC_FAMILY = "sealstream.requests";
    /** Prefix of every client's response topic; the client id follows. */
    public static final String RESPONSE_TOPIC_PREFIX = "sealstream.responses.";
    /** Prefix of every client's stream topic (chunks of streamed answers, docs/streaming.md); the client id follows. */
    public static final String STREAM_TOPIC_PREFIX = "sealstream.streams.";

    /** Longest request id accepted, in characters; the id is the HKDF salt and the record key. */
    public static final int MAX_REQUEST_ID_LENGTH = 128;
    /**
     * A request id is 1 to {@value #MAX_REQUEST_ID_LENGTH} of letters, digits, '.', '_', ':' and '-'
     * (a UUID fits): it is clear metadata that logs, dead-letter headers and keys carry, so it
     * must not carry text a tenant could use to forge log lines.
     */
    private static final java.util.regex.Pattern REQUEST_ID = java.util.regex.Pattern.compile(
            "[A-Za-z0-9._:-]{1," + MAX_REQUEST_ID_LENGTH + "}");

    static final int NONCE_LENGTH = 12;
    static final int TAG_LENGTH = 16;
    static final int KEY_LENGTH = 32;

    private static final String SESSION_INFO_LABEL = "sealstream/v1";
    private static final byte[] REQUEST_INFO = "sealstream/v1/request".getBytes(StandardCharsets.UTF_8);
    private static final byte[] RESPONSE_INFO = "sealstream/v1/response".getBytes(StandardCharsets.UTF_8);
    private static final String REQUEST_AAD_LABEL = "sealstream/v1/request-aad";
    private static final String RESPONSE_AAD_LABEL = "sealstream/v1/response-aad";
    private static final byte[] STREAM_INFO = "sealstream/v1/stream".getBytes(StandardCharsets.UTF_8);
    private static final String CHUNK_AAD_LABEL = "sealstream/v1/chunk-aad";

    private EnvelopeProtocol() {
    }

    /** Whether {@code requestId} is a legal request id. */
    public static boolean isLegalRequestId(String requestId) {
        return requestId != null && REQUEST_ID.matcher(requestId).matches();
    }

    /** The pool a policy without pools has, and the pool whose family is the base family itself. */
    public static final String DEFAULT_POOL = "default";

    /**
     * The request topic family of worker pool {@code pool} (ARCHITECTURE.md §8, docs/tenancy.md):
     * the base family for {@value #DEFAULT_POOL}, else {@code <base>-<pool>}, e.g.
     * {@code sealstream.requests-chat}. The '-' keeps a pool's family from ever being a client's
     * topic of the base family ({@code sealstream.requests.chat}), and the workers' patterns
     * ({@code <family>.<client_id>}) of two pools from matching each other's topics.
     */
    public static String poolFamily(String baseFamily, String pool) {
        if (!isLegalPoolName(pool)) {
            throw new IllegalArgumentException("a worker pool name is 1 to 32 lower-case letters or digits, got '"
                    + (pool == null ? "" : pool.length() > 40 ? pool.substring(0, 40) + "..." : pool) + "'");
        }
        return DEFAULT_POOL.equals(pool) ? baseFamily : baseFamily + "-" + pool;
    }

    /**
     * A pool name is 1 to 32 lower-case letters or digits: no '-' or '.', so no pool's family or
     * application id is a prefix of another's (the policy parser applies the same rule).
     */
    public static boolean isLegalPoolName(String pool) {
        return pool != null && POOL_NAME.matcher(pool).matches();
    }

    private static final java.util.regex.Pattern POOL_NAME = java.util.regex.Pattern.compile("[a-z0-9]{1,32}");

    /**
     * The request topic of a client: {@code <family>.<client_id>}, for example
     * {@code sealstream.requests.acme} in the family {@code sealstream.requests}. Every topic of a
     * family shares the family's HPKE keyset; the session info and the AAD bind the concrete topic,
     * so a record moved to another client's topic fails to open.
     */
    public static String requestTopicFor(String family, String clientId) {
        return family + "." + clientId;
    }

    /**
     * The client whose request topic {@code topic} is in {@code family}, or empty if it is not one.
     * Client ids hold no '.', so the family of a request topic is everything before its last '.'
     * and no topic belongs to two families.
     */
    public static java.util.Optional<String> clientOfRequestTopic(String family, String topic) {
        String prefix = family + ".";
        if (topic == null || !topic.startsWith(prefix)) {
            return java.util.Optional.empty();
        }
        String client = topic.substring(prefix.length());
        return isLegalClientId(client) ? java.util.Optional.of(client) : java.util.Optional.empty();
    }

    /**
     * A client id is 1 to {@value #MAX_CLIENT_ID_LENGTH} letters, digits, '_' or '-': it names the
     * client's two topics, and without '.' one client's topic can never look like another family's
     * ({@code sealstream.requests.gold.acme}) or another client's.
     */
    public static boolean isLegalClientId(String clientId) {
        return clientId != null && CLIENT_ID.matcher(clientId).matches();
    }

    /** Longest client id: its response topic stays within Kafka's 249 characters. */
    public static final int MAX_CLIENT_ID_LENGTH = 200;
    private static final java.util.regex.Pattern CLIENT_ID = java.util.regex.Pattern.compile(
            "[A-Za-z0-9_-]{1," + MAX_CLIENT_ID_LENGTH + "}");

    /** The response topic of a client: {@code sealstream.responses.<client_id>}. */
    public static String responseTopicFor(String clientId) {
        return RESPONSE_TOPIC_PREFIX + clientId;
    }

    /** HPKE context info that binds a wrapped DEK to its topic, client and session. */
    static byte[] sessionContextInfo(String topic, String clientId, String sessionId) {
        return CanonicalAad.labelled(SESSION_INFO_LABEL).string(topic).string(clientId).string(sessionId).toBytes();
    }

    static byte[] requestAad(String topic, RequestHeader h) {
        return CanonicalAad.labelled(REQUEST_AAD_LABEL)
                .number(h.version())
                .string(topic)
                .string(h.requestId())
                .string(h.clientId())
                .string(h.responseTopic())
                .string(h.sessionId())
                .number(h.keyId())
                .number(h.createdAtMillis())
                .toBytes();
    }

    /**
     * The response AAD: the ids, status and time, then the provenance's fields when the response
     * carries one, so provenance cannot be added, removed, changed or moved to another response.
     */
    static byte[] responseAad(String responseTopic, String requestId, String clientId, String sessionId,
                              String status, long createdAtMillis, io.sealstream.schemas.v1.Provenance provenance) {
        CanonicalAad aad = CanonicalAad.labelled(RESPONSE_AAD_LABEL)
                .number(VERSION)
                .string(responseTopic)
                .string(requestId)
                .string(clientId)
                .string(sessionId)
                .string(status)
                .number(createdAtMillis);
        if (provenance != null) {
            aad.string("provenance")
                    .string(provenance.getLeaseId())
                    .number(provenance.getLeaseLogIndex())
                    .string(provenance.getTee())
                    .string(provenance.getMeasurement())
                    .string(provenance.getModelDigest());
        }
        return aad.toBytes();
    }

    /**
     * The chunk AAD: the stream topic, the ids, the attempt, the position, whether it is the last
     * chunk, and the time, so a chunk cannot be moved, reordered, renumbered or made final.
     */
    static byte[] chunkAad(String streamTopic, String requestId, String clientId, String sessionId, String attempt,
                           int seq, boolean last, long createdAtMillis) {
        return CanonicalAad.labelled(CHUNK_AAD_LABEL)
                .number(VERSION)
                .string(streamTopic)
                .string(requestId)
                .string(clientId)
                .string(sessionId)
                .string(attempt)
                .number(seq)
                .number(last ? 1 : 0)
                .number(createdAtMillis)
                .toBytes();
    }

    /** The stream topic of a client: {@code sealstream.streams.<client_id>}. */
    public static String streamTopicFor(String clientId) {
        return STREAM_TOPIC_PREFIX + clientId;
    }

    /**
     * k_stream = HKDF-SHA256(DEK, salt = request_id, info = "sealstream/v1/stream"): the chunks of a
     * streamed answer, apart from k_resp, which seals the answer itself and nothing else.
     */
    static byte[] streamKey(DataKey dek, String requestId) {
        return derive(dek, requestId, STREAM_INFO);
    }

    /** k_req = HKDF-SHA256(DEK, salt = request_id, info = "sealstream/v1/request"). */
    static byte[] requestKey(DataKey dek, String requestId) {
        return derive(dek, requestId, REQUEST_INFO);
    }

    /** k_resp = HKDF-SHA256(DEK, salt = request_id, info = "sealstream/v1/response"). */
    static byte[] responseKey(DataKey dek, String requestId) {
        return derive(dek, requestId, RESPONSE_INFO);
    }

    private static byte[] derive(DataKey dek, String requestId, byte[] info) {
        try {
            return Hkdf.computeHkdf("HMACSHA256", dek.material(),
                    requestId.getBytes(StandardCharsets.UTF_8), info, KEY_LENGTH);
        } catch (GeneralSecurityException e) {
            // HMAC-SHA256 is present in every Java 17 runtime; reaching here means a broken JCE.
            throw new IllegalStateException("HKDF-SHA256 is not available in this JVM", e);
        }
    }

    /**
     * AES-256-GCM with a fresh random 96-bit nonce drawn by Tink; the key array is zeroed
     * afterwards. Tink writes nonce || ciphertext || tag, the envelope keeps the nonce apart.
     */
    static Sealed seal(byte[] key, byte[] plaintext, byte[] aad) {
        try {
            byte[] out = new AesGcmJce(key).encrypt(plaintext, aad);
            return new Sealed(Arrays.copyOfRange(out, 0, NONCE_LENGTH), Arrays.copyOfRange(out, NONCE_LENGTH, out.length));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-256-GCM is not available in this JVM", e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Opens AES-256-GCM; any authentication failure is a {@link TamperedEnvelopeException}. */
    static byte[] open(byte[] key, byte[] nonce, byte[] ciphertext, byte[] aad, String what)
            throws TamperedEnvelopeException {
        byte[] joined = new byte[nonce.length + ciphertext.length];
        System.arraycopy(nonce, 0, joined, 0, nonce.length);
        System.arraycopy(ciphertext, 0, joined, nonce.length, ciphertext.length);
        try {
            return new AesGcmJce(key).decrypt(joined, aad);
        } catch (GeneralSecurityException e) {
            throw new TamperedEnvelopeException(what + " failed authentication");
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Nonce and ciphertext (with tag) as separate fields, the layout of the Avro envelope. */
    record Sealed(byte[] nonce, byte[] ciphertext) {
    }
}
