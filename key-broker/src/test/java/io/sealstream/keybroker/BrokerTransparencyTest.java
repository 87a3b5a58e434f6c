package io.sealstream.keybroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.custody.SealedKeysetStore;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.transparency.LogEntry;
import io.sealstream.transparency.LogMonitor;
import io.sealstream.transparency.TransparencyLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key broker's transparency log (docs/transparency.md) as a client reaches it over HTTP: what
 * it holds, that it only grows across rotations, restarts and ratchets under one pinned key, and
 * that a host who edits it or removes its key stops the broker instead of getting a fresh log.
 */
class BrokerTransparencyTest {
    private static final String TOPIC = "sealstream.requests";
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] BROKER = filled(48, 0xD2);
    private static final byte[] WORKER = filled(48, 0xC1);
    private static final byte[] MODEL = filled(32, 0xA7);
    private static final AttestationPolicy POLICY = AttestationPolicy.parse("""
            version: 1
            name: transparency-test
            allow-simulated: true
            models: ['%s']
            key-broker:
              measurements: ['%s']
            tee:
              snp:
                measurements: ['%s']
            """.formatted(hex(MODEL), hex(BROKER), hex(WORKER)));

    @TempDir
    Path dataDir;
    @TempDir
    Path clientDir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T06:00:00Z"));
    private final List<KeyBrokerServer> started = new ArrayList<>();

    @AfterEach
    void stop() {
        started.forEach(KeyBrokerServer::close);
    }

    @Test
    void thePolicyAndMeasurementTheBrokerServesAreEntriesProvenInTheHeadTheClientAccepted() throws Exception {
        KeyBrokerClient client = client(start());
        PublicTopicKeys served = client.publicKeys(TOPIC, filled(32, 1));
        LogMonitor monitor = monitor(client);
        monitor.update(client.logSource());

        LogEntry policy = entry(client, served.policyLogIndex());
        LogEntry measurement = entry(client, served.measurementLogIndex());
        monitor.requireIncluded(policy, served.policyLogIndex(), client.logSource());
        monitor.requireIncluded(measurement, served.measurementLogIndex(), client.logSource());

        assertThat(policy.type()).isEqualTo(LogEntry.Type.POLICY);
        assertThat(policy.fields()).containsEntry("policy_id", served.policyId());
        byte[] document = Base64.getDecoder().decode(policy.fields().get("policy"));
        assertThat(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(document)))
                .as("the logged document hashes to the policy id").isEqualTo(served.policyId());
        assertThat(measurement.fields()).containsEntry("tee", "snp").containsEntry("measurement", hex(BROKER));
    }

    @Test
    void eachTopicsPrimaryPublicKeysetIsLoggedAndNoPrivateKeyIs() throws Exception {
        KeyBrokerClient client = client(start());
        PublicTopicKeys served = client.publicKeys(TOPIC, filled(32, 2));

        List<LogEntry> all = entries(client);

        LogEntry key = all.stream().filter(e -> e.type() == LogEntry.Type.TOPIC_KEY).findFirst().orElseThrow();
        assertThat(key.fields()).containsEntry("topic", TOPIC)
                .containsEntry("key_id", Long.toString(served.primaryKeyId()))
                .containsEntry("keyset", Base64.getEncoder().encodeToString(served.keyset()));
        assertThat(all).allSatisfy(e -> assertThat(e.fields().keySet()).noneMatch(n -> n.contains("private")));
    }

    @Test
    void aRotationLogsTheNewPrimaryAndTheDemotionAndTheLogOnlyGrows() throws Exception {
        KeyBrokerServer server = start();
        KeyBrokerClient client = client(server);
        long first = client.publicKeys(TOPIC, filled(32, 3)).primaryKeyId();
        LogMonitor monitor = monitor(client);
        monitor.update(client.logSource());

        clock.advance(Duration.ofMinutes(1));
        server.broker().rotateDue();

        long second = client.publicKeys(TOPIC, filled(32, 4)).primaryKeyId();
        assertThat(monitor.update(client.logSource()).size()).as("consistent with the head seen before").isGreaterThan(3);
        List<LogEntry> all = entries(client);
        assertThat(all).anySatisfy(e -> assertThat(e.type() == LogEntry.Type.TOPIC_KEY
                && e.fields().get("key_id").equals(Long.toString(second))).isTrue());
        assertThat(all).anySatisfy(e -> assertThat(e.type() == LogEntry.Type.TOPIC_KEY_DEMOTED
                && e.fields().get("key_id").equals(Long.toString(first))).isTrue());
    }

    @Test
    void theLogKeyAndItsHistorySurviveARatchetAndARestart() throws Exception {
        KeyBrokerServer server = start();
        KeyBrokerClient client = client(server);
        PublicKey pinned = logKey(client);
        long policyEntry = client.publicKeys(TOPIC, filled(32, 6)).policyLogIndex();
        LogMonitor monitor = monitor(client);
        monitor.update(client.logSource());
        clock.advance(Duration.ofMinutes(1));
        server.broker().rotateDue();
        clock.advance(Duration.ofMinutes(1));
        server.broker().rotateDue(); // the first key retires: the root ratchets and everything is resealed
        stop(server);

        KeyBrokerClient restarted = client(start());

        assertThat(logKey(restarted)).isEqualTo(pinned);
        assertThat(monitor.update(restarted.logSource()).verify(pinned)).isTrue();
        assertThat(restarted.publicKeys(TOPIC, filled(32, 5)).policyLogIndex())
                .as("the same policy is not logged again").isEqualTo(policyEntry);
    }

    @Test
    void anAdmittedWorkersLeaseIsInTheLogWithWhatTheBrokerVerifiedBeforeTheWorkerHearsOfIt() throws Exception {
        KeyBrokerClient client = client(start());

        io.sealstream.keybroker.api.LeaseGrant grant = client.attest(workerRequest(client, java.util.Map.of()));

        LogEntry lease = entry(client, grant.logIndex());
        assertThat(lease.type()).isEqualTo(LogEntry.Type.LEASE);
        assertThat(lease.fields()).containsEntry("lease_id", io.sealstream.keybroker.api.LeaseGrant.idInToken(grant.token()))
                .containsEntry("tee", "snp").containsEntry("measurement", hex(WORKER))
                .containsEntry("models", hex(MODEL)).containsEntry("policy_id", POLICY.id());
        assertThat(grant.measurement()).isEqualTo(hex(WORKER));
        assertThat(grant.tee()).isEqualTo("snp");
    }

    @Test
    void theModelNamesAWorkerServesAreInItsLeaseEntryWithTheirDigests() throws Exception {
        KeyBrokerClient client = client(start());

        io.sealstream.keybroker.api.LeaseGrant grant = client.attest(workerRequest(client,
                java.util.Map.of("mini-b", hex(MODEL), "mini-a", hex(MODEL))));

        assertThat(entry(client, grant.logIndex()).fields())
                .containsEntry("served_models", "mini-a=" + hex(MODEL) + "/mini-b=" + hex(MODEL));
    }

    @Test
    void aModelNameForADigestTheEvidenceDoesNotBindIsRefused() throws Exception {
        KeyBrokerClient client = client(start());
        io.sealstream.keybroker.api.AttestRequest request = workerRequest(client, java.util.Map.of("gpt-9", "00".repeat(32)));

        assertThatThrownBy(() -> client.attest(request))
                .isInstanceOf(io.sealstream.keybroker.api.KeyBrokerException.class).hasMessageContaining("served_models");
    }

    @Test
    void tooManyServedModelNamesOrANameOutsideTheModelAlphabetIsRefused() throws Exception {
        KeyBrokerClient client = client(start());
        java.util.Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i <= io.sealstream.keybroker.api.AttestRequest.MAX_SERVED_NAMES; i++) {
            many.put("model-" + i, hex(MODEL));
        }
        io.sealstream.keybroker.api.AttestRequest tooMany = workerRequest(client, many);
        io.sealstream.keybroker.api.AttestRequest badName = workerRequest(client, java.util.Map.of("a/b=c", hex(MODEL)));

        assertThatThrownBy(() -> client.attest(tooMany)).isInstanceOf(io.sealstream.keybroker.api.KeyBrokerException.class)
                .hasMessageContaining("at most " + io.sealstream.keybroker.api.AttestRequest.MAX_SERVED_NAMES);
        assertThatThrownBy(() -> client.attest(badName)).isInstanceOf(io.sealstream.keybroker.api.KeyBrokerException.class)
                .hasMessageContaining("served_models");
    }

    @Test
    void aLogKeyRemovedFromTheDataDirectoryStopsTheBrokerInsteadOfStartingAFreshLog() throws Exception {
        stop(start());
        try (var files = Files.walk(dataDir.resolve("keysets"))) {
            Files.delete(files.filter(p -> p.getFileName().toString().equals("transparency-log.key")).findFirst()
                    .orElseThrow());
        }

        assertThatThrownBy(this::start).isInstanceOf(SealedKeysetStore.RefusedStateException.class)
                .hasMessageContaining("missing").hasMessageContaining("transparency log key");
    }

    @Test
    void aLogRemovedWhileItsKeyRemainsStopsTheBrokerInsteadOfStartingAFreshHistory() throws Exception {
        stop(start());
        try (var files = Files.walk(dataDir.resolve("transparency"))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }

        assertThatThrownBy(this::start).isInstanceOf(SealedKeysetStore.RefusedStateException.class)
                .hasMessageContaining("missing").hasMessageContaining("holds no log");
    }

    @Test
    void aLogRolledBackBehindTheSealedStateStopsTheBroker() throws Exception {
        KeyBrokerServer server = start();
        Path log = dataDir.resolve("transparency");
        Path older = dataDir.resolveSibling(dataDir.getFileName() + "-older-log");
        Files.createDirectories(older);
        for (String f : List.of("log.entries", "log.head")) {
            Files.copy(log.resolve(f), older.resolve(f));
        }
        clock.advance(Duration.ofMinutes(1));
        server.broker().rotateDue(); // a new primary: logged, then the sealed state records the log's size
        stop(server);
        for (String f : List.of("log.entries", "log.head")) {
            Files.copy(older.resolve(f), log.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }

        assertThatThrownBy(this::start).isInstanceOf(SealedKeysetStore.RefusedStateException.class)
                .hasMessageContaining("rolled back");
    }

    @Test
    void aLogEditedOnTheHostStopsTheBroker() throws Exception {
        stop(start());
        Path entries = dataDir.resolve("transparency").resolve("log.entries");
        byte[] bytes = Files.readAllBytes(entries);
        bytes[bytes.length - 3] ^= 1; // inside the last entry, which the signed head covers
        Files.write(entries, bytes);

        assertThatThrownBy(this::start).isInstanceOf(TransparencyLog.LogIntegrityException.class);
    }

    @Test
    void readsBeyondTheLogOrWithMalformedNumbersAreRefusedWithWhatToSend() throws Exception {
        KeyBrokerClient client = client(start());
        long size = client.logHead().size();

        KeyBrokerException beyond = catchThrowableOfType(KeyBrokerException.class, () -> client.logEntries(0, size + 1));
        KeyBrokerException backwards = catchThrowableOfType(KeyBrokerException.class, () -> client.consistencyProof(2, 1));

        assertThat(beyond.status()).isEqualTo(400);
        assertThat(beyond.getMessage()).contains("holds " + size);
        assertThat(backwards.status()).isEqualTo(400);
        for (String query : List.of("entries?start=0&end=abc", "entries?start=-1&end=1",
                "proof/inclusion?index=0&size=99999999999999999999", "proof/consistency?first=1", "entries")) {
            java.net.http.HttpResponse<String> raw = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(client.baseUrl() + "/v1/log/" + query)).GET()
                            .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(raw.statusCode()).as(query).isEqualTo(400);
            assertThat(raw.body()).as(query).contains("bad_request");
        }
    }

    private KeyBrokerServer start() {
        KeyBrokerServer s = KeyBrokerServer.start(KeyBrokerConfig.builder().dataDir(dataDir).policy(POLICY)
                .verifier(TeeType.SNP, SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot()))
                .ownEvidence(TEE.provider(BROKER)).topics(List.of(TOPIC)).custody(Custody.insecureDevFile()).clock(clock)
                .rotationInterval(Duration.ofMinutes(1)).grace(Duration.ofMinutes(1)).build());
        started.add(s);
        return s;
    }

    private void stop(KeyBrokerServer s) {
        s.close();
        started.remove(s);
    }

    private LogMonitor monitor(KeyBrokerClient client) throws Exception {
        return new LogMonitor(logKey(client), clientDir.resolve("log-head"), Duration.ZERO, clock);
    }

    private static PublicKey logKey(KeyBrokerClient client) throws Exception {
        return KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(client.logKey().publicKey()));
    }

    private static LogEntry entry(KeyBrokerClient client, long index) throws KeyBrokerException {
        return LogEntry.parse(client.logEntries(index, index + 1).entries().get(0));
    }

    private static List<LogEntry> entries(KeyBrokerClient client) throws KeyBrokerException {
        return client.logEntries(0, client.logHead().size()).entries().stream().map(LogEntry::parse).toList();
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

    /** A fresh worker's attestation of {@code MODEL} on a fresh nonce, naming {@code served}. */
    private static io.sealstream.keybroker.api.AttestRequest workerRequest(KeyBrokerClient client,
                                                                         java.util.Map<String, String> served)
            throws Exception {
        io.sealstream.envelope.TeeKeyPair tee = io.sealstream.envelope.TeeKeyPair.generate();
        byte[] nonce = client.challenge().nonce();
        io.sealstream.attestation.Evidence evidence = TEE.attest(WORKER,
                io.sealstream.attestation.ReportDataBinding.forWorker(nonce, tee.publicKey(), MODEL));
        return new io.sealstream.keybroker.api.AttestRequest(nonce, io.sealstream.keybroker.api.EvidenceMessage.of(evidence),
                tee.publicKey(), List.of(MODEL), List.of(), served);
    }
}
