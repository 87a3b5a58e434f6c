package io.sealstream.keybroker.custody;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.envelope.TeeKeyPair;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.keybroker.api.PolicyChallenge;
import io.sealstream.keybroker.api.PolicyChange;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.http.KeyBrokerServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner changes the policy of a running broker; revocation takes effect at once at the broker. */
class PolicyChangeTest {
    private static final String TOPIC = "sealstream.requests";
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] KEPT = filled(48, 0xC1);
    private static final byte[] REVOKED = filled(48, 0xC2);
    private static final byte[] BROKER = filled(48, 0xD2);
    private static final byte[] MODEL = filled(32, 0xA7);
    private static final SealingKeyPair OWNER = SealingKeyPair.generate();
    private static final String POLICY = """
            version: 1
            name: policy-change-test
            allow-simulated: true
            models: ['%s']
            key-broker:
              measurements: ['%s']
              recovery-key: %s
            tee:
              snp:
                measurements: [%%s]
            """.formatted(hex(MODEL), hex(BROKER), Base64.getEncoder().encodeToString(OWNER.publicKey()));

    private static final String CURRENT = AttestationPolicy.parse(policyWith(KEPT, REVOKED)).id();

    @TempDir
    Path dataDir;
    private KeyBrokerServer server;
    private KeyBrokerClient client;

    @BeforeEach
    void start() {
        server = KeyBrokerServer.start(config(Custody.recovery()).build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));
    }

    private KeyBrokerConfig.Builder config(Custody custody) {
        return KeyBrokerConfig.builder().dataDir(dataDir)
                .policy(AttestationPolicy.parse(policyWith(KEPT, REVOKED)))
                .verifier(TeeType.SNP, SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot()))
                .ownEvidence(TEE.provider(BROKER)).topics(List.of(TOPIC)).custody(custody)
                // the next key is published as soon as the broker checks, two hours before it is due
                .pendingLead(Duration.ofHours(2));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void theOwnersChangeRefusesTheRemovedMeasurementAndAdmitsTheOthers() throws Exception {
        PolicyChanged changed = OwnerPolicyChange.apply(client, OWNER, CURRENT, policyWith(KEPT));

        assertThat(changed.policyId()).isEqualTo(AttestationPolicy.parse(policyWith(KEPT)).id());
        KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class, () -> attest(REVOKED));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.code()).isEqualTo("unknown_measurement");
        assertThat(client.keys(attest(KEPT).token(), TOPIC).topic()).isEqualTo(TOPIC);
    }

    @Test
    void leasesIssuedUnderTheOldPolicyFetchNothingMore() throws Exception {
        LeaseGrant before = attest(REVOKED);

        OwnerPolicyChange.apply(client, OWNER, CURRENT, policyWith(KEPT));

        KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class, () -> client.keys(before.token(), TOPIC));
        assertThat(refused.status()).isEqualTo(401);
    }

    @Test
    void everyTopicGetsAFreshPrimaryThatNoKeyPublishedBeforeTheChangeBecomes() throws Exception {
        long oldPrimary = client.publicKeys(TOPIC, filled(32, 1)).primaryKeyId();
        server.broker().rotateDue();
        // the published key, which a worker revoked next may hold
        TeeKeyPair revokedTee = TeeKeyPair.generate();
        String token = attest(REVOKED, revokedTee).token();
        long published = revokedTee.openRelease(TOPIC, client.keys(token, TOPIC).releasedKeyset(), token).pendingKeyId()
                .orElseThrow();

        PolicyChanged changed = OwnerPolicyChange.apply(client, OWNER, CURRENT, policyWith(KEPT));

        long newPrimary = client.publicKeys(TOPIC, filled(32, 2)).primaryKeyId();
        assertThat(changed.rotatingTopics()).containsExactly(TOPIC);
        assertThat(newPrimary).isNotEqualTo(oldPrimary).isNotEqualTo(published);
    }

    @Test
    void theNewPolicyIsALogEntryWhenClientsAreFirstServedIt() throws Exception {
        PolicyChanged changed = OwnerPolicyChange.apply(client, OWNER, CURRENT, policyWith(KEPT));

        io.sealstream.keybroker.api.PublicTopicKeys served = client.publicKeys(TOPIC, filled(32, 4));
        io.sealstream.transparency.LogEntry logged = io.sealstream.transparency.LogEntry.parse(
                client.logEntries(served.policyLogIndex(), served.policyLogIndex() + 1).entries().get(0));

        assertThat(served.policyLogIndex()).isPositive();
        assertThat(logged.fields()).containsEntry("policy_id", changed.policyId());
    }

    @Test
    void aChangeNotMacdByTheOwnersKeyIsRefused() throws Exception {
        SealingKeyPair stranger = SealingKeyPair.generate();
        PolicyChallenge challenge = client.policyChallenge();
        String yaml = policyWith(KEPT);

        assertThat(catchThrowableOfType(java.security.GeneralSecurityException.class,
                () -> OwnerChallenges.answer(stranger, challenge.nonce(), challenge.sealedKey(), CURRENT, yaml))).isNotNull();
        KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class,
                () -> client.changePolicy(new PolicyChange(challenge.nonce(), yaml, new byte[32])));
        assertThat(refused.status()).isEqualTo(401);
        assertThat(refused.code()).isEqualTo("not_owner");
        assertThat(client.publicKeys(TOPIC, filled(32, 3)).policyId()).isEqualTo(AttestationPolicy.parse(
                policyWith(KEPT, REVOKED)).id());
    }

    @Test
    void aChallengeIsUsedOnce() throws Exception {
        PolicyChallenge challenge = client.policyChallenge();
        String yaml = policyWith(KEPT);
        byte[] mac = OwnerChallenges.answer(OWNER, challenge.nonce(), challenge.sealedKey(), CURRENT, yaml);
        client.changePolicy(new PolicyChange(challenge.nonce(), yaml, mac));

        KeyBrokerException replayed = catchThrowableOfType(KeyBrokerException.class,
                () -> client.changePolicy(new PolicyChange(challenge.nonce(), yaml, mac)));

        assertThat(replayed.code()).isEqualTo("not_owner");
    }


    @Test
    void theOwnersToolRefusesABrokerThatEnforcesAnotherPolicyThanTheOneTheOwnerNamed() {
        KeyBrokerException e = catchThrowableOfType(KeyBrokerException.class,
                () -> OwnerPolicyChange.apply(client, OWNER, "0f".repeat(32), policyWith(KEPT)));

        assertThat(e.code()).isEqualTo("policy_mismatch");
    }

    @Test
    void aWrongMacDoesNotBurnTheOwnersChallenge() throws Exception {
        PolicyChallenge challenge = client.policyChallenge();
        String yaml = policyWith(KEPT);
        catchThrowableOfType(KeyBrokerException.class,
                () -> client.changePolicy(new PolicyChange(challenge.nonce(), yaml, new byte[32])));

        byte[] mac = OwnerChallenges.answer(OWNER, challenge.nonce(), challenge.sealedKey(), CURRENT, yaml);

        assertThat(client.changePolicy(new PolicyChange(challenge.nonce(), yaml, mac)).policyId())
                .isEqualTo(AttestationPolicy.parse(yaml).id());
    }

    @Test
    void aReplicaLeftOnTheOldPolicyReleasesNothingUntilTheOwnerChangesItToo() throws Exception {
        try (KeyBrokerServer second = KeyBrokerServer.start(config(Custody.peer(server.url())).build())) {
            KeyBrokerClient secondClient = new KeyBrokerClient(second.url(), Duration.ofSeconds(10));
            LeaseGrant onSecond = attestAt(secondClient, REVOKED, TeeKeyPair.generate());

            OwnerPolicyChange.apply(client, OWNER, CURRENT, policyWith(KEPT));
            second.broker().rotateDue(); // its next check sees the state written under the new policy

            KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class,
                    () -> secondClient.keys(onSecond.token(), TOPIC));
            assertThat(refused.status()).isEqualTo(503);
            assertThat(refused.code()).isEqualTo("policy_changed_elsewhere");

            OwnerPolicyChange.apply(secondClient, OWNER, CURRENT, policyWith(KEPT));
            assertThat(secondClient.keys(attestAt(secondClient, KEPT, TeeKeyPair.generate()).token(), TOPIC).topic())
                    .isEqualTo(TOPIC);
        }
    }

    @Test
    void aRestartUnderAnotherPolicyRotatesLikeALiveChange(@TempDir Path devDir) throws Exception {
        long before;
        try (KeyBrokerServer dev = KeyBrokerServer.start(config(Custody.insecureDevFile()).dataDir(devDir).build())) {
            before = new KeyBrokerClient(dev.url(), Duration.ofSeconds(10)).publicKeys(TOPIC, filled(32, 4)).primaryKeyId();
        }

        try (KeyBrokerServer dev = KeyBrokerServer.start(config(Custody.insecureDevFile()).dataDir(devDir)
                .policy(AttestationPolicy.parse(policyWith(KEPT))).build())) {
            assertThat(new KeyBrokerClient(dev.url(), Duration.ofSeconds(10)).publicKeys(TOPIC, filled(32, 5))
                    .primaryKeyId()).isNotEqualTo(before);
        }
    }

    @Test
    void aPolicyThatDoesNotParseIsRefusedByFieldAndTheOldOneStays() throws Exception {
        PolicyChallenge challenge = client.policyChallenge();
        String broken = "version: 2\nmodels: []\n";
        byte[] mac = OwnerChallenges.answer(OWNER, challenge.nonce(), challenge.sealedKey(), CURRENT, broken);

        KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class,
                () -> client.changePolicy(new PolicyChange(challenge.nonce(), broken, mac)));

        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.code()).isEqualTo("bad_policy");
        assertThat(refused).hasMessageContaining("version");
        assertThat(client.publicKeys(TOPIC, filled(32, 6)).policyId()).isEqualTo(CURRENT);
    }

    private LeaseGrant attest(byte[] measurement) throws KeyBrokerException {
        return attest(measurement, TeeKeyPair.generate());
    }

    private LeaseGrant attest(byte[] measurement, TeeKeyPair tee) throws KeyBrokerException {
        return attestAt(client, measurement, tee);
    }

    private static LeaseGrant attestAt(KeyBrokerClient client, byte[] measurement, TeeKeyPair tee)
            throws KeyBrokerException {
        byte[] nonce = client.challenge().nonce();
        Evidence e = TEE.attest(measurement, ReportDataBinding.forWorker(nonce, tee.publicKey(), MODEL));
        return client.attest(new AttestRequest(nonce, EvidenceMessage.of(e), tee.publicKey(), List.of(MODEL)));
    }

    private static String policyWith(byte[]... measurements) {
        return POLICY.formatted(String.join(", ", Arrays.stream(measurements).map(m -> "'" + hex(m) + "'").toList()));
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
