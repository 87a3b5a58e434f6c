package io.sealstream.worker;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.TeeKeyPair;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyRelease;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.envelope.WorkerLease;
import io.sealstream.keybroker.client.KeyBrokerClient;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a worker gets its keys (ARCHITECTURE.md §6–7): a nonce from the key broker, evidence whose
 * report_data binds the nonce, this process's ephemeral HPKE public key and the model digest, a
 * lease, then the topic keyset encrypted to that key. Runs again on a timer so rotated keys arrive
 * and the lease never lapses; a failed refresh keeps the keys already installed until the lease
 * ends, and then they go (the worker stops consuming first).
 */
final class KeyAcquisition implements AutoCloseable, io.sealstream.streams.KeyRefresh {
    /** At most one refresh a second on demand: records with made-up key ids cannot make the worker hammer the broker. */
    private static final long ON_DEMAND_MIN_GAP_MS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(KeyAcquisition.class);

    private final KeyBrokerClient broker;
    private final EvidenceProvider tee;
    private final TeeKeyPair keyPair = TeeKeyPair.generate();
    private final List<byte[]> modelDigests;
    private final java.util.Map<String, String> servedModels;
    private final String topic;
    private final RequestOpener opener;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sealstream-key-refresh");
        t.setDaemon(true);
        return t;
    });
    private final java.util.concurrent.atomic.AtomicBoolean onDemandQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong refusedReleases = new java.util.concurrent.atomic.AtomicLong();
    private volatile long lastRequestedAt;
    private volatile Instant leaseExpiresAt;
    private volatile String leaseToken;
    /** Start time of the latest refresh that installed keys: a record seen before it may now open. */
    private volatile long lastSuccessStartedAt;
    /** Whether keys are installed; false after the lease ended without renewal, until the next release. */
    private volatile boolean holdingKeys;
    private volatile LeaseListener listener = LeaseListener.NONE;

    /** When the current lease expires, or null before the first release. */
    Instant leaseExpiresAt() {
        return leaseExpiresAt;
    }

    /** Told when the lease ends without renewal (keys dropped) and when keys arrive again. */
    interface LeaseListener {
        LeaseListener NONE = new LeaseListener() {
            @Override
            public void leaseLost() {
            }

            @Override
            public void keysRestored() {
            }
        };

        void leaseLost();

        void keysRestored();
    }
    private volatile long primaryKeyId = -1;

    /** @param servedModels the model names this worker serves, each with its model's SHA-256 (hex), for the lease entry */
    KeyAcquisition(KeyBrokerClient broker, EvidenceProvider tee, List<byte[]> modelDigests,
                   java.util.Map<String, String> servedModels, String topic, RequestOpener opener) {
        this.broker = broker;
        this.tee = tee;
        this.servedModels = java.util.Map.copyOf(servedModels);
        this.modelDigests = modelDigests.stream().map(byte[]::clone).toList();
        this.topic = topic;
        this.opener = opener;
    }

    /** Attests and installs the topic's keys; throws if the broker refuses. */
    void acquire() throws KeyBrokerException, AttestationException {
        AuthChallenge challenge = broker.challenge();
        Evidence evidence = tee.attest(ReportDataBinding.forWorker(challenge.nonce(), keyPair.publicKey(),
                ReportDataBinding.modelSetDigest(modelDigests)));
        LeaseGrant lease = broker.attest(new AttestRequest(challenge.nonce(), EvidenceMessage.of(evidence),
                keyPair.publicKey(), modelDigests, java.util.List.of(), servedModels));
        fetchRelease(lease.token());
        // the id from the token a release just opened under; the rest as the broker said, which a
        // client checks against the broker's log entry for the lease
        try {
            opener.installLease(new WorkerLease(LeaseGrant.idInToken(lease.token()),
                    lease.logIndex() == null ? -1 : lease.logIndex(), nonNull(lease.tee()), nonNull(lease.measurement())));
        } catch (IllegalArgumentException e) {
            throw new KeyBrokerException(502, "bad_grant", "the lease grant's TEE or measurement is not what a key "
                    + "broker sends: " + e.getMessage());
        }
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    /**
     * Fetches and installs the keyset under the lease {@code token}. The lease's expiry is taken
     * from inside the token, and only once the release opened under it: an answer from the network
     * cannot stretch a lease, and an old exchange replayed whole brings an old expiry with it.
     */
    private void fetchRelease(String token) throws KeyBrokerException {
        KeyRelease release = broker.keys(token, topic);
        TopicKeyset keyset;
        try {
            keyset = keyPair.openRelease(topic, release.releasedKeyset(), token);
        } catch (GeneralSecurityException e) {
            refusedReleases.incrementAndGet();
            throw new KeyBrokerException(502, "bad_release", "the released keyset does not open with this worker's key "
                    + "and lease (a replayed or foreign release?): " + e.getMessage());
        }
        Instant expires;
        try {
            expires = LeaseGrant.expiryInToken(token);
        } catch (IllegalArgumentException e) {
            throw new KeyBrokerException(502, "bad_release", e.getMessage());
        }
        // the broker admitted this worker under this lease, whatever the keyset's age
        leaseExpiresAt = expires;
        leaseToken = token;
        if (!opener.install(keyset)) {
            refusedReleases.incrementAndGet();
            throw new KeyBrokerException(502, "stale_release", "the released keyset (version " + keyset.version()
                    + ") is older than the installed one (version " + opener.installedVersion(topic)
                    + "); kept the installed keys");
        }
        if (!holdingKeys) {
            if (primaryKeyId != -1) {
                LOG.info("worker.keys.restored topic={} lease_expires_at={}", topic, leaseExpiresAt);
                listener.keysRestored(); // throws if consuming cannot start: the next refresh tries again
            }
            holdingKeys = true;
        }
        if (keyset.primaryKeyId() != primaryKeyId) {
            LOG.info("worker.keys.installed topic={} primary_key_id={} keys={} lease_expires_at={} tee_key={}",
                    topic, keyset.primaryKeyId(), keyset, leaseExpiresAt, keyPair.publicKeyFingerprint().substring(0, 16));
            primaryKeyId = keyset.primaryKeyId();
        }
    }

    /** Refreshes every {@code every}; failures are logged with their code and retried at the next tick. */
    void refreshEvery(Duration every, LeaseListener listener) {
        this.listener = listener;
        timer.scheduleWithFixedDelay(this::refreshOnce, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        timer.scheduleWithFixedDelay(this::dropKeysIfLeaseEnded, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * A lease that ended without renewal (the broker refused this worker, say, after a policy
     * change) takes the keys with it: every keyset and cached session key is dropped, within a
     * second of the expiry, and the worker is told to stop consuming.
     */
    private void dropKeysIfLeaseEnded() {
        if (holdingKeys && !hasValidLease()) {
            holdingKeys = false;
            // consuming stops first (the batch in hand completes or aborts), then the keys go: no
            // record is opened without keys and dead-lettered in between
            listener.leaseLost();
            opener.clear();
            LOG.warn("worker.lease.expired topic={} expired_at={} action=keys_dropped", topic, leaseExpiresAt);
        }
    }

    private void refreshOnce() {
        refresh(false);
    }

    /**
     * One refresh: a full re-attestation, or, on demand while the lease holds, only a new release
     * under it (cheaper for the broker, and what a key published since the last refresh needs).
     */
    private void refresh(boolean releaseOnly) {
        long started = System.currentTimeMillis();
        try {
            if (releaseOnly && leaseToken != null && hasValidLease()) {
                try {
                    fetchRelease(leaseToken);
                } catch (KeyBrokerException e) {
                    if (e.status() != 401) {
                        throw e;
                    }
                    acquire(); // the lease ended early (a policy change or a broker restart): attest again
                }
            } else {
                acquire();
            }
            lastSuccessStartedAt = started;
        } catch (KeyBrokerException e) {
            LOG.warn("worker.keys.refresh_failed topic={} status={} code={}", topic, e.status(), e.code());
        } catch (AttestationException e) {
            LOG.warn("worker.keys.refresh_failed topic={} code={}", topic, e.failure().code());
        } catch (RuntimeException e) {
            LOG.warn("worker.keys.refresh_failed topic={} error={}", topic, e.getClass().getSimpleName());
        }
    }

    /** A record names a key this worker lacks: refresh now (coalesced, at most once a second). */
    @Override
    public void request() {
        long now = System.currentTimeMillis();
        if (now - lastRequestedAt < ON_DEMAND_MIN_GAP_MS || !onDemandQueued.compareAndSet(false, true)) {
            return;
        }
        lastRequestedAt = now;
        try {
            timer.execute(() -> {
                try {
                    refresh(true);
                } finally {
                    onDemandQueued.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            onDemandQueued.set(false); // closing
        }
    }

    /** Releases refused since start: not opening under this worker's key and lease, or older than the keys held. */
    long refusedReleases() {
        return refusedReleases.get();
    }

    @Override
    public long lastSuccessStartedAtMillis() {
        return lastSuccessStartedAt;
    }

    /** True while keys are installed: from the first release until a lease ends without renewal. */
    boolean holdsKeys() {
        return holdingKeys;
    }

    /** True while a lease obtained for the installed keys is unexpired. */
    boolean hasValidLease() {
        Instant expires = leaseExpiresAt;
        return expires != null && Instant.now().isBefore(expires);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
