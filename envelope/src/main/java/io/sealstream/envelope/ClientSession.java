package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A client's sealing session on one request topic: a random DEK wrapped once with HPKE to the
 * topic's primary key, then used for many requests and to open their responses.
 *
 * <p>Build one with {@link #builder(TopicPublicKeys)}. A session refuses to seal once it is past
 * its lifetime or record budget; open a new one before then ({@link #needsRenewal()}). Thread-safe.
 */
public final class ClientSession implements AutoCloseable {
    private final String topic;
    private final String clientId;
    private final String responseTopic;
    private final String sessionId;
    private final long keyId;
    private final DataKey dek;
    private final byte[] wrappedDek;
    private final Instant expiresAt;
    private final long maxRecords;
    private final Clock clock;
    private final AtomicLong sealed = new AtomicLong();

    private ClientSession(Builder b) {
        this.topic = b.requestTopic != null ? b.requestTopic : b.keys.topic();
        this.clientId = b.clientId;
        this.responseTopic = b.responseTopic != null ? b.responseTopic : EnvelopeProtocol.responseTopicFor(b.clientId);
        this.sessionId = UUID.randomUUID().toString();
        this.keyId = b.keys.primaryKeyId();
        this.dek = DataKey.random();
        this.wrappedDek = b.keys.wrap(dek, EnvelopeProtocol.sessionContextInfo(topic, clientId, sessionId));
        this.clock = b.clock;
        Instant byLifetime = clock.instant().plus(b.lifetime);
        boolean sooner = b.notAfter != null && b.notAfter.isAfter(clock.instant()) && b.notAfter.isBefore(byLifetime);
        this.expiresAt = sooner ? b.notAfter : byLifetime;
        this.maxRecords = b.maxRecords;
    }

    /** Starts a session on the topic whose public keys are given. */
    public static Builder builder(TopicPublicKeys keys) {
        return new Builder(keys);
    }

    /** Seals {@code request} under a fresh random request id. */
    public SealedRequest seal(InferenceRequest request) {
        return seal(UUID.randomUUID().toString(), request);
    }

    /**
     * Seals {@code request} under {@code requestId}. Re-sealing with the same id is how a client
     * retries: the worker's answer carries the id, and the client keeps the first answer only.
     */
    public SealedRequest seal(String requestId, InferenceRequest request) {
        Objects.requireNonNull(request, "request");
        requireId(requestId);
        if (dek.isDestroyed()) {
            throw new IllegalStateException("session " + sessionId + " is closed; open a new session");
        }
        Instant now = clock.instant();
        if (!now.isBefore(expiresAt)) {
            throw new IllegalStateException("session " + sessionId + " expired at " + expiresAt + "; open a new session");
        }
        if (sealed.incrementAndGet() > maxRecords) {
            throw new IllegalStateException("session " + sessionId + " sealed its " + maxRecords
                    + " records; open a new session");
        }
        long createdAt = now.toEpochMilli();
        RequestHeader header = new RequestHeader(EnvelopeProtocol.VERSION, requestId, clientId, responseTopic,
                sessionId, keyId, createdAt);
        EnvelopeProtocol.Sealed s = EnvelopeProtocol.seal(EnvelopeProtocol.requestKey(dek, requestId),
                PayloadCodec.encode(request), EnvelopeProtocol.requestAad(topic, header));
        EncryptedRequest record = EncryptedRequest.newBuilder()
                .setVersion(EnvelopeProtocol.VERSION)
                .setRequestId(requestId)
                .setClientId(clientId)
                .setResponseTopic(responseTopic)
                .setSessionId(sessionId)
                .setKeyId(keyId)
                .setCreatedAt(Instant.ofEpochMilli(createdAt))
                .setWrappedDek(ByteBuffer.wrap(wrappedDek.clone()))
                .setNonce(ByteBuffer.wrap(s.nonce()))
                .setCiphertext(ByteBuffer.wrap(s.ciphertext()))
                .build();
        return new SealedRequest(topic, record);
    }

    /**
     * Opens a response to a request of this session.
     *
     * @throws TamperedEnvelopeException if it is not for this session or fails authentication
     * @throws MalformedEnvelopeException if it has the wrong shape or version
     */
    public OpenedResponse open(EncryptedResponse response) throws EnvelopeException {
        Objects.requireNonNull(response, "response");
        if (response.getVersion() != EnvelopeProtocol.VERSION) {
            throw new MalformedEnvelopeException(ErrorCode.UNSUPPORTED_VERSION,
                    "response to " + response.getRequestId() + " has envelope version " + response.getVersion());
        }
        if (!clientId.equals(response.getClientId()) || !sessionId.equals(response.getSessionId())) {
            throw new TamperedEnvelopeException("response to " + response.getRequestId()
                    + " names client/session " + response.getClientId() + "/" + response.getSessionId()
                    + ", not this session");
        }
        byte[] nonce = Bytes.of(response.getNonce());
        byte[] ciphertext = Bytes.of(response.getCiphertext());
        Bytes.requireEnvelopeShape(response.getRequestId(), nonce, ciphertext);
        String status = response.getStatus().name();
        byte[] aad = EnvelopeProtocol.responseAad(responseTopic, response.getRequestId(), clientId, sessionId,
                status, response.getCreatedAt().toEpochMilli(), response.getProvenance());
        byte[] plaintext = EnvelopeProtocol.open(EnvelopeProtocol.responseKey(dek, response.getRequestId()),
                nonce, ciphertext, aad, "response to " + response.getRequestId());
        InferenceResponse body = PayloadCodec.decodeResponse(plaintext, response.getRequestId());
        return new OpenedResponse(response.getRequestId(), response.getStatus(), body, response.getProvenance());
    }

    /**
     * Opens a chunk of a streamed answer to a request of this session (docs/streaming.md).
     *
     * @throws TamperedEnvelopeException if it is not for this session or fails authentication
     *     (moved, reordered, renumbered or made final on the way)
     * @throws MalformedEnvelopeException if it has the wrong shape or version
     */
    public OpenedChunk openChunk(io.sealstream.schemas.v1.EncryptedChunk chunk) throws EnvelopeException {
        Objects.requireNonNull(chunk, "chunk");
        if (chunk.getVersion() != EnvelopeProtocol.VERSION) {
            throw new MalformedEnvelopeException(ErrorCode.UNSUPPORTED_VERSION,
                    "chunk of " + chunk.getRequestId() + " has envelope version " + chunk.getVersion());
        }
        if (!clientId.equals(chunk.getClientId()) || !sessionId.equals(chunk.getSessionId())) {
            throw new TamperedEnvelopeException("chunk of " + chunk.getRequestId() + " names client/session "
                    + chunk.getClientId() + "/" + chunk.getSessionId() + ", not this session");
        }
        byte[] nonce = Bytes.of(chunk.getNonce());
        byte[] ciphertext = Bytes.of(chunk.getCiphertext());
        Bytes.requireEnvelopeShape(chunk.getRequestId(), nonce, ciphertext);
        byte[] aad = EnvelopeProtocol.chunkAad(EnvelopeProtocol.streamTopicFor(clientId), chunk.getRequestId(), clientId,
                sessionId, chunk.getAttempt(), chunk.getSeq(), chunk.getFinal$(), chunk.getCreatedAt().toEpochMilli());
        byte[] plaintext = EnvelopeProtocol.open(EnvelopeProtocol.streamKey(dek, chunk.getRequestId()), nonce,
                ciphertext, aad, "chunk of " + chunk.getRequestId());
        // length (4 bytes), UTF-8 text, zero padding (ChunkSealer.padded)
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(plaintext);
        int length = plaintext.length >= 4 ? in.getInt() : -1;
        String text;
        try {
            if (length < 0 || length > plaintext.length - 4) {
                throw new java.nio.charset.CharacterCodingException();
            }
            text = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(plaintext, 4, length)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new MalformedEnvelopeException(ErrorCode.UNDECODABLE, "the authenticated chunk of "
                    + chunk.getRequestId() + " is not a length and UTF-8 text");
        }
        return new OpenedChunk(chunk.getRequestId(), chunk.getAttempt(), chunk.getSeq(), chunk.getFinal$(), text);
    }

    /** True when the session is past its lifetime or record budget, or closed. */
    public boolean needsRenewal() {
        return dek.isDestroyed() || !clock.instant().isBefore(expiresAt) || sealed.get() >= maxRecords;
    }

    public String topic() {
        return topic;
    }

    public String clientId() {
        return clientId;
    }

    public String responseTopic() {
        return responseTopic;
    }

    public String sessionId() {
        return sessionId;
    }

    /** The topic key the DEK is wrapped to. */
    public long keyId() {
        return keyId;
    }

    public Instant expiresAt() {
        return expiresAt;
    }

    /** Zeroes the DEK; responses still in flight can no longer be opened. */
    @Override
    public void close() {
        dek.destroy();
    }

    @Override
    public String toString() {
        return "ClientSession[topic=" + topic + ", clientId=" + clientId + ", sessionId=" + sessionId
                + ", keyId=" + keyId + ", expiresAt=" + expiresAt + ", dek=" + dek + "]";
    }

    private static void requireId(String requestId) {
        Objects.requireNonNull(requestId, "requestId");
        if (!EnvelopeProtocol.isLegalRequestId(requestId)) {
            throw new IllegalArgumentException("a request id has 1 to " + EnvelopeProtocol.MAX_REQUEST_ID_LENGTH
                    + " letters, digits, '.', '_', ':' or '-'");
        }
    }

    /** Settings of a new session. */
    public static final class Builder {
        private final TopicPublicKeys keys;
        private String clientId;
        private String responseTopic;
        private String requestTopic;
        private Duration lifetime = EnvelopeDefaults.SESSION_LIFETIME;
        private long maxRecords = EnvelopeDefaults.SESSION_MAX_RECORDS;
        private Clock clock = Clock.systemUTC();
        private Instant notAfter;

        private Builder(TopicPublicKeys keys) {
            this.keys = Objects.requireNonNull(keys, "keys");
        }

        /** Required: the tenant id, which also names the default response topic. */
        public Builder clientId(String clientId) {
            this.clientId = clientId;
            return this;
        }

        /**
         * The topic the session's requests go to, bound into every wrap and AAD: the keys' own topic
         * (the default) or a topic of that family, {@code <keys topic>.<client_id>}
         * ({@link EnvelopeProtocol#requestTopicFor}).
         */
        public Builder requestTopic(String requestTopic) {
            this.requestTopic = requestTopic;
            return this;
        }

        /** Where responses go; default {@code sealstream.responses.<client_id>}. */
        public Builder responseTopic(String responseTopic) {
            this.responseTopic = responseTopic;
            return this;
        }

        /** How long the DEK may seal requests; default {@link EnvelopeDefaults#SESSION_LIFETIME}. */
        public Builder lifetime(Duration lifetime) {
            this.lifetime = lifetime;
            return this;
        }

        /**
         * Ends the session no later than {@code instant}, however long its lifetime: the client sets
         * it to when the topic's primary key rotates, so new requests move to the new key promptly.
         * An instant already past is ignored (the lifetime applies).
         */
        public Builder notAfter(Instant instant) {
            this.notAfter = instant;
            return this;
        }

        /** How many requests the DEK may seal; default {@link EnvelopeDefaults#SESSION_MAX_RECORDS}. */
        public Builder maxRecords(long maxRecords) {
            this.maxRecords = maxRecords;
            return this;
        }

        /** The clock for created_at and expiry; default the system UTC clock. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public ClientSession build() {
            if (clientId == null || clientId.isBlank()) {
                throw new IllegalArgumentException("a session needs a client id");
            }
            if (requestTopic != null && !requestTopic.equals(keys.topic())
                    && EnvelopeProtocol.clientOfRequestTopic(keys.topic(), requestTopic).isEmpty()) {
                throw new IllegalArgumentException("request topic '" + requestTopic + "' is not in the family of the keys' topic '"
                        + keys.topic() + "'; use " + keys.topic() + ".<client_id>");
            }
            if (lifetime == null || lifetime.isNegative() || lifetime.isZero()) {
                throw new IllegalArgumentException("session lifetime must be positive, got " + lifetime);
            }
            if (maxRecords < 1) {
                throw new IllegalArgumentException("session record budget must be at least 1, got " + maxRecords);
            }
            Objects.requireNonNull(clock, "clock");
            return new ClientSession(this);
        }
    }
}
