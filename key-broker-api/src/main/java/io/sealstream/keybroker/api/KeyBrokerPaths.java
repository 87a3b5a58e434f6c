package io.sealstream.keybroker.api;

/** The HTTP paths of the key broker API, in one place for the server and its clients. */
public final class KeyBrokerPaths {
    public static final String AUTH = "/v1/auth";
    public static final String ATTEST = "/v1/attest";
    /**
     * Followed by the topic name, and by {@link #PUBLIC_SUFFIX} for the public keys; alone, the
     * list of topic families.
     */
    public static final String KEYS = "/v1/keys/";
    public static final String PUBLIC_SUFFIX = "/public";
    public static final String HEALTH = "/healthz";
    /** 200 once the broker holds its root and can release keys; 503 while it waits for recovery. */
    public static final String READY = "/readyz";
    /** The owner changes the policy: POST a challenge, then POST the MAC'd policy. */
    public static final String POLICY_CHALLENGE = "/v1/policy/challenge";
    public static final String POLICY = "/v1/policy";
    /** How the broker holds its root secret. */
    public static final String CUSTODY = "/v1/custody";
    /** A replica asks a running one for the root. */
    public static final String CUSTODY_HANDOVER = "/v1/custody/handover";
    /** The owner returns the root after a full outage: GET the offer, POST the sealed root. */
    public static final String CUSTODY_RECOVERY = "/v1/custody/recovery";

    /** The transparency log (docs/transparency.md): everything below it is read-only and public. */
    public static final String LOG = "/v1/log/";
    public static final String LOG_HEAD = "/v1/log/head";
    /** {@code ?start=&end=}. */
    public static final String LOG_ENTRIES = "/v1/log/entries";
    /** {@code ?index=&size=}. */
    public static final String LOG_INCLUSION = "/v1/log/proof/inclusion";
    /** {@code ?first=&second=}. */
    public static final String LOG_CONSISTENCY = "/v1/log/proof/consistency";
    public static final String LOG_KEY = "/v1/log/key";

    private KeyBrokerPaths() {
    }
}
