package io.sealstream.keybroker.custody;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.envelope.TeeKeyPair;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.MutableClock;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.CustodyStatus;
import io.sealstream.keybroker.api.HandoverRequest;
import io.sealstream.keybroker.api.RecoveryDelivery;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the key broker holds its root secret (docs/key-broker.md, "Custody"): escrowed to the owner,
 * handed between replicas after mutual attestation, returned by the owner's tool after a full
 * outage, and never replaced by what a host leaves in the data directory.
 */
class KeyCustodyTest {
    private static final String TOPIC = "sealstream.requests";
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] WORKER = filled(48, 0xC1);
    private static final byte[] BROKER = filled(48, 0xD2);
    private static final byte[] ROGUE_BROKER = filled(48, 0xE3);
    private static final byte[] MODEL = filled(32, 0xA7);
    private static final SealingKeyPair OWNER = SealingKeyPair.generate();
    private static final AttestationPolicy POLICY = AttestationPolicy.parse("""
            version: 1
            name: custody-test
            allow-simulated: true
            models: ['%s']
            key-broker:
              measurements: ['%s']
              recovery-key: %s
            tee:
              snp:
                measurements: ['%s']
            """.formatted(hex(MODEL), hex(BROKER), Base64.getEncoder().encodeToString(OWNER.publicKey()), hex(WORKER)));
    private static final SnpVerifier VERIFIER = SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot());

    @TempDir
    Path dataDir;
    private final List<KeyBrokerServer> started = new ArrayList<>();
    private final MutableClock clock = new MutableClock(java.time.Instant.now());

    @AfterEach
    void stop() {
        started.forEach(KeyBrokerServer::close);
    }

    @Test
    void aRecoveryBrokerKeepsOnlySealedStateOnDisk() throws Exception {
        start(Custody.recovery(), BROKER);

        try (var files = Files.walk(dataDir)) {
            // the transparency log is public by design: policies, measurements, public keysets
            assertThat(files.filter(Files::isRegularFile).map(p -> dataDir.relativize(p).toString()))
                    .allMatch(p -> p.equals("custody.json") || p.startsWith("keysets/") || p.startsWith("transparency/"))
                    .noneMatch(p -> p.contains("root") && !p.startsWith("keysets/"))
                    .contains("custody.json", "keysets/0/manifest.sealed");
        }
        assertThat(Files.readString(dataDir.resolve("custody.json"))).contains("sealed_root", "owner_key_sha256")
                .doesNotContain("\"root\"");
    }

    @Test
    void aRestartedRecoveryBrokerServesNoKeysUntilTheOwnerReturnsTheRoot() throws Exception {
        KeyBrokerServer first = start(Custody.recovery(), BROKER);
        String fingerprint = publicKeys(first).keysetFingerprint();
        String rootId = client(first).custody().rootId();
        stop(first);

        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);
        assertThat(client(restarted).custody()).isEqualTo(new CustodyStatus("recovery", "awaiting_recovery", ""));
        KeyBrokerException refused = catchThrowableOfType(KeyBrokerException.class, () -> publicKeys(restarted));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.code()).isEqualTo("awaiting_recovery");

        OwnerRecovery.Outcome outcome = owner().recover(client(restarted), OWNER);

        assertThat(outcome.rootId()).isEqualTo(rootId);
        assertThat(outcome.brokerMeasurement()).isEqualTo(hex(BROKER));
        assertThat(outcome.status().state()).isEqualTo("ready");
        assertThat(publicKeys(restarted).keysetFingerprint()).isEqualTo(fingerprint);
    }

    @Test
    void aWorkerOpensAfterARecoveryWhatAClientSealedBeforeIt() throws Exception {
        KeyBrokerServer first = start(Custody.recovery(), BROKER);
        ClientSession session = ClientSession.builder(TopicPublicKeys.parse(TOPIC, publicKeys(first).keyset()))
                .clientId("acme").build();
        InferenceRequest request = InferenceRequest.newBuilder().setModel("m")
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of("hello")).build()).build();
        var sealed = session.seal("r1", request).toRecord();
        stop(first);
        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);
        owner().recover(client(restarted), OWNER);

        assertThat(RequestOpener.builder().build(workerKeyset(restarted)).open(TOPIC, sealed).request()).isEqualTo(request);
    }

    @Test
    void theOwnersToolGivesNothingToABrokerWithAnotherMeasurement() throws Exception {
        stop(start(Custody.recovery(), BROKER));
        KeyBrokerServer rogue = start(Custody.recovery(), ROGUE_BROKER);

        OwnerRecovery.RefusedException e = catchThrowableOfType(OwnerRecovery.RefusedException.class,
                () -> owner().recover(client(rogue), OWNER));

        assertThat(e.code()).isEqualTo("unknown_measurement");
        assertThat(e).hasMessageContaining("gets nothing");
        assertThat(client(rogue).custody().state()).isEqualTo("awaiting_recovery");
    }

    @Test
    void theOwnersToolRefusesAnEscrowTheHostMadeItself() throws Exception {
        stop(start(Custody.recovery(), BROKER));
        // the host swaps in a root of its own, sealed to the owner's public key, keeping the genuine evidence
        var json = KeyBrokerJson.mapper();
        var record = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(dataDir.resolve("custody.json").toFile());
        try (RootSecret hostRoot = RootSecret.generate()) {
            var recovery = (com.fasterxml.jackson.databind.node.ObjectNode) record.get("recovery");
            recovery.put("root_id", hostRoot.idHex());
            recovery.put("sealed_root", hostRoot.sealTo(OWNER.publicKey(), RootCustody.escrowContext(hostRoot.id())));
            record.put("root_id", hostRoot.idHex());
        }
        json.writeValue(dataDir.resolve("custody.json").toFile(), record);
        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);

        OwnerRecovery.RefusedException e = catchThrowableOfType(OwnerRecovery.RefusedException.class,
                () -> owner().recover(client(restarted), OWNER));

        assertThat(e.code()).isEqualTo("untrusted_escrow");
        assertThat(client(restarted).custody().state()).isEqualTo("awaiting_recovery");
    }

    @Test
    void theOwnersToolRefusesABrokerThatEnforcesAnotherPolicy() throws Exception {
        stop(start(Custody.recovery(), BROKER));
        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);
        AttestationPolicy other = AttestationPolicy.parse(POLICY.toYaml().replace("custody-test", "other"));

        OwnerRecovery.RefusedException e = catchThrowableOfType(OwnerRecovery.RefusedException.class,
                () -> new OwnerRecovery(Map.of(TeeType.SNP, VERIFIER), other, Clock.systemUTC())
                        .recover(client(restarted), OWNER));

        assertThat(e.code()).isEqualTo("policy_mismatch");
    }

    @Test
    void aSecondReplicaTakesTheRootFromARunningOneOverHttp() throws Exception {
        KeyBrokerServer first = start(Custody.recovery(), BROKER);

        KeyBrokerServer second = start(Custody.peer(first.url()), BROKER);

        assertThat(client(second).custody()).isEqualTo(new CustodyStatus("peer", "ready", client(first).custody().rootId()));
        assertThat(publicKeys(second).keysetFingerprint()).isEqualTo(publicKeys(first).keysetFingerprint());
    }

    @Test
    void aReplicaWithAnotherMeasurementGetsNoRootFromAPeer() throws Exception {
        KeyBrokerServer first = start(Custody.recovery(), BROKER);

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.peer(first.url()), ROGUE_BROKER));

        assertThat(e).hasMessageContaining("unknown_measurement").hasMessageContaining("did not hand over");
    }

    @Test
    void aReplicaInDevCustodyHandsNothingOver() throws Exception {
        KeyBrokerServer dev = start(Custody.insecureDevFile(), BROKER);

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.peer(dev.url()), BROKER));

        assertThat(e).hasMessageContaining("dev_custody");
    }

    @Test
    void aReplicaSeesTheRotationsItsPeerWrote() throws Exception {
        KeyBrokerServer first = start(config(Custody.recovery(), BROKER).rotationInterval(Duration.ofMillis(1)));
        // the second replica's schedule is an hour: all it does on its check is to notice the first one's write
        KeyBrokerServer second = start(Custody.peer(first.url()), BROKER);
        long before = publicKeys(second).primaryKeyId();

        first.broker().rotateDue();
        second.broker().rotateDue();

        assertThat(publicKeys(first).primaryKeyId()).isNotEqualTo(before);
        assertThat(publicKeys(second).primaryKeyId()).isEqualTo(publicKeys(first).primaryKeyId());
        assertThat(publicKeys(second).keysetFingerprint()).isEqualTo(publicKeys(first).keysetFingerprint());
    }

    @Test
    void aRunningReplicaDoesNotTakeADirectoryRolledBackUnderIt(@TempDir Path snapshot) throws Exception {
        KeyBrokerServer first = start(config(Custody.recovery(), BROKER).rotationInterval(Duration.ofMillis(1)));
        KeyBrokerServer second = start(Custody.peer(first.url()), BROKER);
        copyTree(dataDir.resolve("keysets/0"), snapshot);
        first.broker().rotateDue();
        second.broker().rotateDue();
        long current = publicKeys(second).primaryKeyId();

        copyTree(snapshot, dataDir.resolve("keysets/0")); // the host puts the old state back
        second.broker().rotateDue();

        assertThat(publicKeys(second).primaryKeyId()).isEqualTo(current);
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void aRetiredKeyTakesItsRootWithItSoNoLaterRootOpensTheFilesThatHeldIt(@TempDir Path copyOfBefore) throws Exception {
        KeyBrokerServer broker = start(stepped(config(Custody.insecureDevFile(), BROKER)));
        String rootBefore = client(broker).custody().rootId();
        copyTree(dataDir.resolve("keysets/0"), copyOfBefore);

        retireTheFirstKey(broker);

        assertThat(client(broker).custody().rootId()).isNotEqualTo(rootBefore);
        assertThat(dataDir.resolve("keysets/0")).doesNotExist();
        assertThat(dataDir.resolve("keysets/1/manifest.sealed")).exists();
        Path elsewhere = copyOfBefore.resolveSibling(copyOfBefore.getFileName() + "-data");
        Files.createDirectories(elsewhere.resolve("keysets"));
        Files.move(copyOfBefore, elsewhere.resolve("keysets/0"));
        try (RootSecret now = RootSecret.of(Files.readAllBytes(dataDir.resolve("root.dev")))) {
            SealedKeysetStore.RefusedStateException e = catchThrowableOfType(SealedKeysetStore.RefusedStateException.class,
                    () -> new SealedKeysetStore(elsewhere, now, 0).loadAll());
            assertThat(e.code()).isEqualTo("foreign_root");
        }
    }

    @Test
    void theEscrowFollowsTheRatchetSoARecoveryAfterItRestoresTheCurrentKeys() throws Exception {
        KeyBrokerServer first = start(stepped(config(Custody.recovery(), BROKER)));
        retireTheFirstKey(first);
        String fingerprint = publicKeys(first).keysetFingerprint();
        String rootId = client(first).custody().rootId();
        stop(first);

        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);
        OwnerRecovery.Outcome outcome = owner().recover(client(restarted), OWNER);

        assertThat(outcome.rootId()).isEqualTo(rootId);
        assertThat(publicKeys(restarted).keysetFingerprint()).isEqualTo(fingerprint);
    }

    @Test
    void aReplicaFollowsTheRatchetItsPeerMade() throws Exception {
        KeyBrokerServer first = start(stepped(config(Custody.recovery(), BROKER)));
        KeyBrokerServer second = start(Custody.peer(first.url()), BROKER);
        retireTheFirstKey(first);

        second.broker().rotateDue();

        assertThat(client(second).custody().rootId()).isEqualTo(client(first).custody().rootId());
        assertThat(publicKeys(second).keysetFingerprint()).isEqualTo(publicKeys(first).keysetFingerprint());
        assertThat(RequestOpener.builder().build(workerKeyset(second))).isNotNull();
    }

    @Test
    void aJoiningReplicaRefusesADirectoryOlderThanItsPeerServes(@TempDir Path snapshot) throws Exception {
        KeyBrokerServer first = start(config(Custody.recovery(), BROKER).rotationInterval(Duration.ofMillis(1)));
        copyTree(dataDir.resolve("keysets/0"), snapshot);
        first.broker().rotateDue();
        copyTree(snapshot, dataDir.resolve("keysets/0")); // the host puts the old state back before a replica joins

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.peer(first.url()), BROKER));

        assertThat(e).hasMessageContaining("rolled_back").hasMessageContaining("replica that handed over the root");
    }

    @Test
    void theOwnersToolRefusesAnEscrowOlderThanTheEpochItSawLast(@TempDir Path before) throws Exception {
        KeyBrokerServer first = start(stepped(config(Custody.recovery(), BROKER)));
        Files.copy(dataDir.resolve("custody.json"), before.resolve("custody.json"));
        copyTree(dataDir.resolve("keysets/0"), Files.createDirectories(before.resolve("keysets/0")));
        retireTheFirstKey(first); // epoch 1
        stop(first);
        // after the outage the host puts back the directory as it was in epoch 0
        try (var files = Files.walk(dataDir.resolve("keysets"))) {
            files.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(dataDir.resolve("keysets")))
                    .forEach(p -> p.toFile().delete());
        }
        Files.copy(before.resolve("custody.json"), dataDir.resolve("custody.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        copyTree(before.resolve("keysets/0"), Files.createDirectories(dataDir.resolve("keysets/0")));
        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);

        OwnerRecovery.RefusedException e = catchThrowableOfType(OwnerRecovery.RefusedException.class,
                () -> new OwnerRecovery(Map.of(TeeType.SNP, VERIFIER), POLICY, Clock.systemUTC(), 1)
                        .recover(client(restarted), OWNER));

        assertThat(e.code()).isEqualTo("rolled_back");
        assertThat(client(restarted).custody().state()).isEqualTo("awaiting_recovery");
    }

    @Test
    void aHandoverRequestReplayedWithItsUsedNonceGetsNothing() throws Exception {
        KeyBrokerServer first = start(Custody.recovery(), BROKER);
        KeyBrokerClient c = client(first);
        SealingKeyPair joiner = SealingKeyPair.generate();
        byte[] nonce = c.challenge().nonce();
        Evidence evidence = TEE.attest(BROKER, ReportDataBinding.forCustody("handover-request", nonce,
                ReportDataBinding.sha256(joiner.publicKey()), ReportDataBinding.sha256Hex(POLICY.id())));
        HandoverRequest request = new HandoverRequest(nonce, filled(32, 9), EvidenceMessage.of(evidence),
                joiner.publicKey());
        c.handover(request);

        KeyBrokerException replayed = catchThrowableOfType(KeyBrokerException.class, () -> c.handover(request));

        assertThat(replayed.status()).isEqualTo(401);
        assertThat(replayed.code()).isEqualTo("stale_nonce");
    }

    @Test
    void malformedCustodyCallsAreRefusedWithWhatToDoAndTheBrokerStillAwaitsTheOwner() throws Exception {
        stop(start(Custody.recovery(), BROKER));
        KeyBrokerServer restarted = start(Custody.recovery(), BROKER);
        KeyBrokerClient c = client(restarted);

        assertThat(rawPost(restarted, "/v1/custody/handover", "{}")).startsWith("400 ").contains("bad_request");
        assertThat(rawPost(restarted, "/v1/custody/recovery", "not json")).startsWith("400 ").contains("bad_request");
        assertThat(rawPost(restarted, "/v1/custody/recovery", "{\"nonce\": \"AAAA\", \"sealed_root\": \"AAAA\"}"))
                .startsWith("400 ").contains("32-byte nonce");
        KeyBrokerException shortNonce = catchThrowableOfType(KeyBrokerException.class, () -> c.recoveryOffer(new byte[8]));
        assertThat(shortNonce.status()).isEqualTo(400);
        KeyBrokerException garbage = catchThrowableOfType(KeyBrokerException.class,
                () -> c.recover(new RecoveryDelivery(filled(32, 1), filled(200, 7))));
        assertThat(garbage.code()).isEqualTo("bad_seal");
        assertThat(garbage).hasMessageContaining("run 'sealstream key-broker recover' again");
        assertThat(c.custody().state()).isEqualTo("awaiting_recovery");
    }

    private static String rawPost(KeyBrokerServer s, String path, String body) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(s.url() + path)).POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        return response.statusCode() + " " + response.body();
    }

    @Test
    void aPlantedKekFileIsRefusedAtStart() throws Exception {
        Files.writeString(dataDir.resolve("kek.json"), "{\"primaryKeyId\": 1}");

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.insecureDevFile(), BROKER));

        assertThat(e).hasMessageContaining("legacy_kek").hasMessageContaining("never reads a key-encryption key");
    }

    @Test
    void aKeysetSealedByAnotherDeploymentIsRefusedAtStart(@TempDir Path otherDir) throws Exception {
        stop(start(Custody.insecureDevFile(), BROKER));
        stop(start(config(Custody.insecureDevFile(), BROKER).dataDir(otherDir).topics(List.of("sealstream.requests-chat"))));
        try (var files = Files.list(otherDir.resolve("keysets/0"))) {
            Path foreign = files.filter(p -> p.getFileName().toString().endsWith(".sealed")
                    && !Files.exists(dataDir.resolve("keysets/0").resolve(p.getFileName()))).findFirst().orElseThrow();
            Files.copy(foreign, dataDir.resolve("keysets/0").resolve(foreign.getFileName()));
        }

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.insecureDevFile(), BROKER));

        assertThat(e).hasMessageContaining("foreign_root").hasMessageContaining("planted");
    }

    @Test
    void aRolledBackKeysetFileIsRefusedAtStart() throws Exception {
        KeyBrokerServer broker = start(config(Custody.insecureDevFile(), BROKER).rotationInterval(Duration.ofMillis(1)));
        Path file;
        try (var files = Files.list(dataDir.resolve("keysets/0"))) {
            file = files.filter(p -> !p.getFileName().toString().startsWith("manifest")
                    && p.getFileName().toString().endsWith(".sealed")).findFirst().orElseThrow();
        }
        byte[] old = Files.readAllBytes(file);
        broker.broker().rotateDue();
        stop(broker);
        Files.write(file, old);

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.insecureDevFile(), BROKER));

        assertThat(e).hasMessageContaining("rolled_back").hasMessageContaining("older copy");
    }

    @Test
    void keysetsWithoutTheirCustodyRecordAreRefusedRatherThanReplacedByANewRoot() throws Exception {
        stop(start(Custody.recovery(), BROKER));
        Files.delete(dataDir.resolve("custody.json"));

        IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
                () -> start(Custody.recovery(), BROKER));

        assertThat(e).hasMessageContaining("custody.json").hasMessageContaining("will not make a new root");
    }

    private TopicKeyset workerKeyset(KeyBrokerServer server) throws Exception {
        KeyBrokerClient c = client(server);
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] nonce = c.challenge().nonce();
        Evidence e = TEE.attest(WORKER, ReportDataBinding.forWorker(nonce, tee.publicKey(), MODEL));
        String token = c.attest(new AttestRequest(nonce, EvidenceMessage.of(e), tee.publicKey(), List.of(MODEL))).token();
        return tee.openRelease(TOPIC, c.keys(token, TOPIC).releasedKeyset(), token);
    }

    /** The broker on this test's clock: a minute between rotations, a minute of grace. */
    private KeyBrokerConfig.Builder stepped(KeyBrokerConfig.Builder config) {
        return config.clock(clock).rotationInterval(Duration.ofMinutes(1)).grace(Duration.ofMinutes(1));
    }

    /** Steps the clock past a rotation (the first key is demoted), then past its grace: it retires and the root ratchets. */
    private void retireTheFirstKey(KeyBrokerServer broker) {
        clock.advance(Duration.ofMinutes(1));
        broker.broker().rotateDue();
        clock.advance(Duration.ofMinutes(1));
        broker.broker().rotateDue();
    }

    private OwnerRecovery owner() {
        return new OwnerRecovery(Map.of(TeeType.SNP, VERIFIER), POLICY, Clock.systemUTC());
    }

    private KeyBrokerServer start(Custody custody, byte[] measurement) {
        return start(config(custody, measurement));
    }

    private KeyBrokerServer start(KeyBrokerConfig.Builder config) {
        KeyBrokerServer s = KeyBrokerServer.start(config.build());
        started.add(s);
        return s;
    }

    private KeyBrokerConfig.Builder config(Custody custody, byte[] measurement) {
        return KeyBrokerConfig.builder().dataDir(dataDir).policy(POLICY).verifier(TeeType.SNP, VERIFIER)
                .ownEvidence(TEE.provider(measurement)).topics(List.of(TOPIC)).custody(custody);
    }

    private void stop(KeyBrokerServer s) {
        s.close();
        started.remove(s);
    }

    private static PublicTopicKeys publicKeys(KeyBrokerServer s) throws KeyBrokerException {
        return client(s).publicKeys(TOPIC, filled(32, 7));
    }

    private static KeyBrokerClient client(KeyBrokerServer s) {
        return new KeyBrokerClient(s.url(), Duration.ofSeconds(10));
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
