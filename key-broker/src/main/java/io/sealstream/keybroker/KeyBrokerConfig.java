package io.sealstream.keybroker;

import io.sealstream.audit.AuditSink;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.EnvelopeDefaults;
import io.sealstream.keybroker.custody.Custody;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Settings of the key broker, with their defaults in one place. Build with {@link #builder()}.
 */
public final class KeyBrokerConfig {
    /** Default bind address: loopback, per the security rules; expose it deliberately. */
    public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";
    /** How long a lease token lets a worker fetch keys before it must attest again. */
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofMinutes(15);
    /** How long a nonce from {@code /v1/auth} stays usable. */
    public static final Duration DEFAULT_NONCE_TTL = Duration.ofMinutes(2);
    /** How often the broker looks for keys due for rotation or retirement. */
    public static final Duration DEFAULT_ROTATION_CHECK = Duration.ofSeconds(30);
    /**
     * How long before a rotation the next key is published to workers (decrypt-only): more than a
     * worker's key refresh interval (1 min) plus one rotation check, so every worker that refreshes
     * on time holds a key before any client seals to it.
     */
    public static final Duration DEFAULT_PENDING_LEAD = Duration.ofMinutes(3);
    /**
     * Default unauthenticated calls a second per source address: a client verifies the broker once
     * per session and family, a worker asks for a nonce once a minute.
     */
    public static final double DEFAULT_PUBLIC_REQUESTS_PER_SECOND = 20;
    /** Default attestations and releases a second per source address: a worker needs two a minute. */
    public static final double DEFAULT_ATTESTATIONS_PER_SECOND = 5;

    private final String bindAddress;
    private final int port;
    private final String metricsAddress;
    private final int metricsPort;
    private final Path dataDir;
    private final AttestationPolicy policy;
    private final Map<TeeType, EvidenceVerifier> verifiers;
    private final EvidenceProvider ownEvidence;
    private final Optional<String> ownTdxCollateral;
    private final Set<String> topics;
    private final Duration rotationInterval;
    private final Duration grace;
    private final Duration leaseTtl;
    private final Duration nonceTtl;
    private final Duration rotationCheck;
    private final Duration pendingLead;
    private final double publicRequestsPerSecond;
    private final double attestationsPerSecond;
    private final Custody custody;
    private final Clock clock;
    private final AuditSink auditSink;

    private KeyBrokerConfig(Builder b) {
        this.bindAddress = b.bindAddress;
        this.port = b.port;
        this.metricsAddress = b.metricsAddress;
        this.metricsPort = b.metricsPort;
        this.dataDir = b.dataDir;
        this.policy = b.policy;
        this.verifiers = Map.copyOf(b.verifiers);
        this.ownEvidence = b.ownEvidence;
        this.ownTdxCollateral = Optional.ofNullable(b.ownTdxCollateral);
        this.topics = Set.copyOf(b.topics);
        this.rotationInterval = b.rotationInterval;
        this.grace = b.grace;
        this.leaseTtl = b.leaseTtl;
        this.nonceTtl = b.nonceTtl;
        this.rotationCheck = b.rotationCheck;
        this.pendingLead = b.pendingLead;
        this.publicRequestsPerSecond = b.publicRequestsPerSecond;
        this.attestationsPerSecond = b.attestationsPerSecond;
        this.clock = b.clock;
        this.auditSink = b.auditSink;
        this.custody = b.custody;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String bindAddress() {
        return bindAddress;
    }

    /** The port to listen on; 0 picks a free one. */
    public int port() {
        return port;
    }

    /**
     * Where {@code /metrics} listens: a port of its own, apart from the API that clients reach,
     * so a network policy can admit Prometheus to it alone. Default loopback.
     */
    public String metricsAddress() {
        return metricsAddress;
    }

    /** The metrics port; 0 picks a free one. */
    public int metricsPort() {
        return metricsPort;
    }

    /** Where the custody record and the sealed keysets live (and, in dev custody only, the root). */
    public Path dataDir() {
        return dataDir;
    }

    public AttestationPolicy policy() {
        return policy;
    }

    public Map<TeeType, EvidenceVerifier> verifiers() {
        return verifiers;
    }

    /** The TEE the broker itself runs in, for the evidence it shows clients. */
    public EvidenceProvider ownEvidence() {
        return ownEvidence;
    }

    /** Intel's collateral for the broker's own TDX platform, served beside its evidence; empty off TDX. */
    public Optional<String> ownTdxCollateral() {
        return ownTdxCollateral;
    }

    /** Request topics provisioned at start-up. */
    public Set<String> topics() {
        return topics;
    }

    public Duration rotationInterval() {
        return rotationInterval;
    }

    public Duration grace() {
        return grace;
    }

    /** Unauthenticated calls (nonces, public keys, topic list) per second per source address, bursts of twice that. */
    public double publicRequestsPerSecond() {
        return publicRequestsPerSecond;
    }

    /** Attestations and key releases per second per source address, bursts of twice that. */
    public double attestationsPerSecond() {
        return attestationsPerSecond;
    }

    /** How long before a rotation the next key reaches workers; see {@link #DEFAULT_PENDING_LEAD}. */
    public Duration pendingLead() {
        return pendingLead;
    }

    public Duration leaseTtl() {
        return leaseTtl;
    }

    public Duration nonceTtl() {
        return nonceTtl;
    }

    public Duration rotationCheck() {
        return rotationCheck;
    }

    /** Where audit events go beside the log (default: nowhere else). */
    public AuditSink auditSink() {
        return auditSink;
    }

    public Clock clock() {
        return clock;
    }

    /** Where the broker gets its root secret; see docs/key-broker.md, "Custody". */
    public Custody custody() {
        return custody;
    }

    /** Builder; data dir, policy, at least one verifier and the broker's own evidence are required. */
    public static final class Builder {
        private String bindAddress = DEFAULT_BIND_ADDRESS;
        private int port;
        private String metricsAddress = DEFAULT_BIND_ADDRESS;
        private int metricsPort;
        private Path dataDir;
        private AttestationPolicy policy;
        private final Map<TeeType, EvidenceVerifier> verifiers = new EnumMap<>(TeeType.class);
        private EvidenceProvider ownEvidence;
        private String ownTdxCollateral;
        private final Set<String> topics = new LinkedHashSet<>();
        private Duration rotationInterval = EnvelopeDefaults.ROTATION_INTERVAL;
        private Duration grace = EnvelopeDefaults.GRACE;
        private Duration leaseTtl = DEFAULT_LEASE_TTL;
        private Duration nonceTtl = DEFAULT_NONCE_TTL;
        private Duration rotationCheck = DEFAULT_ROTATION_CHECK;
        private Duration pendingLead = DEFAULT_PENDING_LEAD;
        private double publicRequestsPerSecond = DEFAULT_PUBLIC_REQUESTS_PER_SECOND;
        private double attestationsPerSecond = DEFAULT_ATTESTATIONS_PER_SECOND;
        private Clock clock = Clock.systemUTC();
        private AuditSink auditSink = AuditSink.NONE;
        private Custody custody;

        private Builder() {
        }

        /** Required, no default: {@link Custody#recovery()} in production, {@link Custody#insecureDevFile()} in the dev stack. */
        public Builder custody(Custody custody) {
            this.custody = custody;
            return this;
        }

        public Builder bindAddress(String bindAddress) {
            this.bindAddress = bindAddress;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder metricsAddress(String metricsAddress) {
            this.metricsAddress = Objects.requireNonNull(metricsAddress, "metricsAddress");
            return this;
        }

        public Builder metricsPort(int metricsPort) {
            this.metricsPort = metricsPort;
            return this;
        }

        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        public Builder policy(AttestationPolicy policy) {
            this.policy = policy;
            return this;
        }

        /** Accept evidence of {@code tee} checked by {@code verifier}. */
        public Builder verifier(TeeType tee, EvidenceVerifier verifier) {
            verifiers.put(tee, verifier);
            return this;
        }

        public Builder ownEvidence(EvidenceProvider ownEvidence) {
            this.ownEvidence = ownEvidence;
            return this;
        }

        /** Intel's collateral (QuoteCollateralV3 JSON) for the broker's own TDX platform, served to clients. */
        public Builder ownTdxCollateral(String json) {
            this.ownTdxCollateral = json;
            return this;
        }

        public Builder topics(List<String> topics) {
            this.topics.addAll(topics);
            return this;
        }

        public Builder rotationInterval(Duration rotationInterval) {
            this.rotationInterval = rotationInterval;
            return this;
        }

        public Builder grace(Duration grace) {
            this.grace = grace;
            return this;
        }

        public Builder leaseTtl(Duration leaseTtl) {
            this.leaseTtl = leaseTtl;
            return this;
        }

        public Builder nonceTtl(Duration nonceTtl) {
            this.nonceTtl = nonceTtl;
            return this;
        }

        /** Publish the next key to workers this long before it becomes primary; default 3 min. */
        public Builder pendingLead(Duration pendingLead) {
            this.pendingLead = pendingLead;
            return this;
        }

        /** Per source address: unauthenticated calls and attestations a second (bursts of twice that). */
        public Builder rateLimits(double publicRequestsPerSecond, double attestationsPerSecond) {
            this.publicRequestsPerSecond = publicRequestsPerSecond;
            this.attestationsPerSecond = attestationsPerSecond;
            return this;
        }

        public Builder rotationCheck(Duration rotationCheck) {
            this.rotationCheck = rotationCheck;
            return this;
        }

        /** Writes the broker's audit events to {@code sink} too (the audit topic); the broker closes it. */
        public Builder auditSink(AuditSink sink) {
            this.auditSink = java.util.Objects.requireNonNull(sink, "sink");
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public KeyBrokerConfig build() {
            Objects.requireNonNull(dataDir, "the key broker needs a data directory");
            Objects.requireNonNull(policy, "the key broker needs an attestation policy");
            Objects.requireNonNull(ownEvidence, "the key broker needs an evidence provider for its own TEE");
            Objects.requireNonNull(custody, "choose how the key broker holds its root secret: Custody.recovery() "
                    + "(production), Custody.peer(url) (a further replica) or Custody.insecureDevFile() (dev stack only)");
            if (verifiers.isEmpty()) {
                throw new IllegalArgumentException("the key broker needs at least one evidence verifier");
            }
            for (Duration d : List.of(rotationInterval, grace, leaseTtl, nonceTtl, rotationCheck, pendingLead)) {
                if (d.isNegative() || d.isZero()) {
                    throw new IllegalArgumentException("key broker durations must be positive, got " + d);
                }
            }
            if (publicRequestsPerSecond <= 0 || attestationsPerSecond <= 0) {
                throw new IllegalArgumentException("rate limits must be positive");
            }
            return new KeyBrokerConfig(this);
        }
    }
}
