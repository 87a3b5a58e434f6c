package io.sealstream.envelope;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.InferenceRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The worker side of the envelope: opens request records with the topic keysets released to this
 * worker, unwrapping each session DEK once through the {@link SessionKeyCache}.
 *
 * <p>Checks run in an order that makes the reported reason truthful: version and shape first,
 * then the key id's state (also for cached sessions), then authentication of every clear field,
 * and only then the request's age and its plaintext, which, having authenticated, fail with a
 * {@link EnvelopeException#responder()} so the client can be answered.
 * Thread-safe; keysets can be replaced while records are being opened.
 */
public final class RequestOpener {
    /** How far in the future a request's created_at may lie before it is refused. */
    public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

    private final Map<String, TopicKeyset> keysets = new ConcurrentHashMap<>();
    private final java.util.Map<String, Long> highestVersion = new java.util.HashMap<>();
    private final SessionKeyCache cache;
    private final Duration maxRequestAge;
    private final Clock clock;
    private final Map<String, String> modelDigests;
    /** The lease responses are sealed under; null until the worker installs one. */
    private volatile WorkerLease lease;

    private RequestOpener(Builder b) {
        this.cache = b.cache;
        this.maxRequestAge = b.maxRequestAge;
        this.clock = b.clock;
        this.modelDigests = Map.copyOf(b.modelDigests);
    }

    /**
     * The lease the worker answers under from now on: every response sealed afterwards (by sealers
     * of requests opened earlier too) carries it as its provenance.
     */
    public void installLease(WorkerLease lease) {
        this.lease = Objects.requireNonNull(lease, "lease");
    }

    /** The provenance of an answer served by {@code model}: the installed lease and the model's digest; null before any lease. */
    io.sealstream.schemas.v1.Provenance provenance(String model) {
        WorkerLease l = lease;
        if (l == null) {
            return null;
        }
        return io.sealstream.schemas.v1.Provenance.newBuilder().setLeaseId(l.leaseId()).setLeaseLogIndex(l.logIndex())
                .setTee(l.tee()).setMeasurement(l.measurement())
                .setModelDigest(model == null ? "" : modelDigests.getOrDefault(model, "")).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * How long after its created_at a request can still be opened: the window in which a replay
     * must be recognised, because after it the record is refused as expired anyway.
     */
    public Duration maxRequestAge() {
        return maxRequestAge;
    }

    /**
     * Installs or replaces the keyset of its topic, e.g. after a rotation or a lease renewal, unless
     * it is older than the one installed: a replayed or stale release must not bring retired keys
     * back or drop current ones.
     *
     * @return false if {@code keyset}'s version is below the installed one's (nothing changed)
     */
    public synchronized boolean install(TopicKeyset keyset) {
        long highest = highestVersion.getOrDefault(keyset.topic(), -1L);
        if (keyset.version() < highest) {
            return false;
        }
        highestVersion.put(keyset.topic(), keyset.version());
        keysets.put(keyset.topic(), keyset);
        return true;
    }

    /**
     * Drops every keyset and destroys every cached session key: what a worker does when its lease
     * ends without renewal. The highest versions seen are kept, so keys installed later still may
     * not move backwards.
     */
    public synchronized void clear() {
        keysets.clear();
        cache.clear();
    }

    /** Whether a keyset that opens {@code topic} (its own or its family's) is installed. */
    public boolean holdsKeysFor(String topic) {
        return topic != null && keysetFor(topic) != null;
    }

    /** The version of {@code topic}'s installed keyset, or -1 if none is. */
    public long installedVersion(String topic) {
        TopicKeyset k = keysets.get(topic);
        return k == null ? -1 : k.version();
    }

    /**
     * Opens a record consumed from {@code topic}.
     *
     * @throws MalformedEnvelopeException wrong shape, or a version other than 1
     * @throws UnknownKeyException no keyset for the topic, or a key id it never had
     * @throws RetiredKeyException a key id whose grace period is over
     * @throws TamperedEnvelopeException any byte of the DEK, nonce, ciphertext or clear fields changed,
     *     or the record was moved to another topic, client, session or request id
     * @throws ExpiredRequestException older than max-request-age
     */
    public OpenedRequest open(String topic, EncryptedRequest record) throws EnvelopeException {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(record, "record");
        RequestHeader header = checkedHeader(record);
        byte[] wrapped = Bytes.of(record.getWrappedDek());
        byte[] nonce = Bytes.of(record.getNonce());
        byte[] ciphertext = Bytes.of(record.getCiphertext());
        Bytes.requireEnvelopeShape(header.requestId(), nonce, ciphertext);

        TopicKeyset keyset = keysetFor(topic);
        if (keyset == null) {
            throw new UnknownKeyException(topic, header.keyId());
        }
        // before the cache: a session cached while its key was live must not outlive the key
        switch (keyset.state(header.keyId())) {
            case UNKNOWN -> throw new UnknownKeyException(topic, header.keyId());
            case RETIRED -> throw new RetiredKeyException(topic, header.keyId());
            default -> { }
        }
        DataKey dek = sessionKey(topic, keyset, header, wrapped);
        ResponseSealer sealer;
        InferenceRequest request;
        ChunkSealer chunks = null;
        try {
            byte[] plaintext = EnvelopeProtocol.open(EnvelopeProtocol.requestKey(dek, header.requestId()), nonce,
                    ciphertext, EnvelopeProtocol.requestAad(topic, header), "request " + header.requestId());
            sealer = new ResponseSealer(header, EnvelopeProtocol.responseKey(dek, header.requestId()), this::provenance);
            Instant now = clock.instant();
            Duration age = Duration.between(Instant.ofEpochMilli(header.createdAtMillis()), now);
            if (age.compareTo(maxRequestAge) > 0) {
                throw new ExpiredRequestException(header.requestId(), age, maxRequestAge, sealer);
            }
            if (age.negated().compareTo(MAX_CLOCK_SKEW) > 0) {
                throw new MalformedEnvelopeException(ErrorCode.MALFORMED, "request " + header.requestId()
                        + " says it was made " + age.negated().toSeconds() + " s in the future; check the client's clock",
                        sealer);
            }
            request = PayloadCodec.decodeRequest(plaintext, sealer);
            if (PayloadCodec.asksToStream(request)) {
                chunks = new ChunkSealer(header, EnvelopeProtocol.streamKey(dek, header.requestId()));
            }
        } finally {
            dek.destroy();
        }
        return new OpenedRequest(topic, header, request, sealer, chunks);
    }

    /** The keyset of {@code topic}: its own, or its family's ({@code <family>.<client_id>}). */
    private TopicKeyset keysetFor(String topic) {
        TopicKeyset own = keysets.get(topic);
        if (own != null) {
            return own;
        }
        int dot = topic.lastIndexOf('.');
        if (dot < 0) {
            return null;
        }
        String family = topic.substring(0, dot);
        return EnvelopeProtocol.clientOfRequestTopic(family, topic).isPresent() ? keysets.get(family) : null;
    }

    private DataKey sessionKey(String topic, TopicKeyset keyset, RequestHeader h, byte[] wrapped)
            throws EnvelopeException {
        SessionKeyCache.SessionRef ref = new SessionKeyCache.SessionRef(topic, h.clientId(), h.sessionId(), h.keyId());
        DataKey cached = cache.get(ref, wrapped);
        if (cached != null) {
            return cached;
        }
        DataKey dek = keyset.unwrap(h.keyId(), wrapped,
                EnvelopeProtocol.sessionContextInfo(topic, h.clientId(), h.sessionId()));
        cache.put(ref, wrapped, dek);
        return dek;
    }

    private static RequestHeader checkedHeader(EncryptedRequest r) throws MalformedEnvelopeException {
        if (r.getVersion() != EnvelopeProtocol.VERSION) {
            throw new MalformedEnvelopeException(ErrorCode.UNSUPPORTED_VERSION,
                    "the request has envelope version " + r.getVersion() + ", this worker speaks "
                            + EnvelopeProtocol.VERSION);
        }
        String id = r.getRequestId();
        if (!EnvelopeProtocol.isLegalRequestId(id)) {
            throw new MalformedEnvelopeException(ErrorCode.MALFORMED, "a request id has 1 to "
                    + EnvelopeProtocol.MAX_REQUEST_ID_LENGTH + " letters, digits, '.', '_', ':' or '-'");
        }
        if (isBlank(r.getClientId()) || isBlank(r.getSessionId()) || isBlank(r.getResponseTopic())
                || r.getCreatedAt() == null) {
            throw new MalformedEnvelopeException(ErrorCode.MALFORMED,
                    "request " + id + " lacks a client id, session id, response topic or created_at");
        }
        return RequestHeader.of(r);
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    @Override
    public String toString() {
        return "RequestOpener[topics=" + keysets.keySet() + ", maxRequestAge=" + maxRequestAge + ", cache=" + cache + "]";
    }

    /** Settings of a {@link RequestOpener}. */
    public static final class Builder {
        private SessionKeyCache cache = new SessionKeyCache();
        private Duration maxRequestAge = EnvelopeDefaults.MAX_REQUEST_AGE;
        private Clock clock = Clock.systemUTC();
        private Map<String, String> modelDigests = Map.of();

        private Builder() {
        }

        /** The SHA-256 (hex) of each model this worker serves, by name: what each response's provenance names. */
        public Builder modelDigests(Map<String, String> byModelName) {
            this.modelDigests = Map.copyOf(byModelName);
            return this;
        }

        /** The DEK cache; default a {@link SessionKeyCache} with its default bounds. */
        public Builder sessionKeyCache(SessionKeyCache cache) {
            this.cache = Objects.requireNonNull(cache, "cache");
            return this;
        }

        /** Records older than this are refused; default {@link EnvelopeDefaults#MAX_REQUEST_AGE}. */
        public Builder maxRequestAge(Duration maxRequestAge) {
            if (maxRequestAge.isNegative() || maxRequestAge.isZero()) {
                throw new IllegalArgumentException("max-request-age must be positive, got " + maxRequestAge);
            }
            this.maxRequestAge = maxRequestAge;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** An opener with the given keysets installed. */
        public RequestOpener build(TopicKeyset... keysets) {
            RequestOpener opener = new RequestOpener(this);
            for (TopicKeyset k : keysets) {
                opener.install(k);
            }
            return opener;
        }
    }
}
