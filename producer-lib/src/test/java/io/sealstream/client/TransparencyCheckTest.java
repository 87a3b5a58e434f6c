package io.sealstream.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.api.KeyBrokerJson;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.http.KeyBrokerServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client's transparency checks against real key brokers (issue 17's tests): a forked log, a
 * truncated log, a log key that is not the pinned one, a policy younger than the minimum age, and a
 * broker that points at the wrong entry are each refused with their code; an honest log is accepted
 * and its head kept.
 */
class TransparencyCheckTest {
    private static final String TOPIC = "sealstream.requests";
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] BROKER = new byte[48];
    private static final String WORKER_HEX = "cd".repeat(48);
    private static final String MODEL_HEX = "ab".repeat(32);
    private static final String POLICY = """
            version: 1
            name: log-test
            allow-simulated: true
            models: ['%s']
            key-broker:
              measurements: ['%s']
            tee:
              snp:
                measurements: ['%s']
            """.formatted("ab".repeat(32), HexFormat.of().formatHex(BROKER), "cd".repeat(48));
    private static final String POLICY_ID = AttestationPolicy.parse(POLICY).id();
    private static final SnpVerifier DEV_VERIFIER = SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot());

    @TempDir
    Path dir;
    private final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : started) {
            c.close();
        }
    }

    @Test
    void anHonestLogIsAcceptedWithThePolicyAndMeasurementProvenAndItsHeadKept() throws Exception {
        KeyBrokerServer broker = broker("a");

        VerifiedTopic v = verifier(broker.url(), trust(broker, Duration.ZERO), Clock.systemUTC()).verify(TOPIC);

        VerifiedTopic.LogCheck log = v.log().orElseThrow();
        assertThat(log.head().size()).isGreaterThan(Math.max(log.policyIndex(), log.measurementIndex()));
        assertThat(Files.exists(dir.resolve("client").resolve("log-head"))).isTrue();
    }

    @Test
    void aForkedLogIsRefusedByAClientThatSawTheOtherHistory() throws Exception {
        KeyBrokerServer honest = broker("honest");
        honest.close();
        started.remove(honest);
        copy(dir.resolve("honest"), dir.resolve("fork")); // the same root and log key, then two histories
        honest = broker("honest");
        KeyBrokerServer fork = broker("fork");
        honest.broker().provision("sealstream.requests-a");
        fork.broker().provision("sealstream.requests-b");
        LogTrust log = logTrust(honest, Duration.ZERO);
        verifier(honest.url(), trust(log), Clock.systemUTC()).verify(TOPIC);

        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class,
                () -> verifier(fork.url(), trust(log), Clock.systemUTC()).verify(TOPIC));

        assertThat(e.code()).isEqualTo("log_forked");
        assertThat(e).hasMessageContaining("do not trust this key broker");
    }

    @Test
    void aTruncatedLogIsRefused() throws Exception {
        KeyBrokerServer current = broker("current");
        current.close();
        started.remove(current);
        copy(dir.resolve("current"), dir.resolve("older"));
        current = broker("current");
        current.broker().provision("sealstream.requests-a");
        LogTrust log = logTrust(current, Duration.ZERO);
        verifier(current.url(), trust(log), Clock.systemUTC()).verify(TOPIC);
        KeyBrokerServer older = broker("older"); // the host brings back a copy from before the last entry

        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class,
                () -> verifier(older.url(), trust(log), Clock.systemUTC()).verify(TOPIC));

        assertThat(e.code()).isEqualTo("log_truncated");
    }

    @Test
    void aLogKeyOtherThanThePinnedOneIsRefused() throws Exception {
        KeyBrokerServer pinned = broker("pinned");
        KeyBrokerServer other = broker("other"); // another deployment: the same build and policy, its own log

        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class,
                () -> verifier(other.url(), trust(pinned, Duration.ZERO), Clock.systemUTC()).verify(TOPIC));

        assertThat(e.code()).isEqualTo("log_key_mismatch");
    }

    @Test
    void aPolicyYoungerThanTheMinimumAgeIsRefusedAndAcceptedOnceItAged() throws Exception {
        KeyBrokerServer broker = broker("a");
        BrokerTrust trust = trust(broker, Duration.ofHours(1));

        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class,
                () -> verifier(broker.url(), trust, Clock.systemUTC()).verify(TOPIC));
        VerifiedTopic later = verifier(broker.url(), trust, Clock.offset(Clock.systemUTC(), Duration.ofMinutes(61)))
                .verify(TOPIC);

        assertThat(e.code()).isEqualTo("policy_too_new");
        assertThat(e).hasMessageContaining("3600 s");
        assertThat(later.log()).isPresent();
    }

    @Test
    void aBrokerPointingAtAnotherEntryThanThePolicyIsRefused() throws Exception {
        KeyBrokerServer broker = broker("a");
        String middle = middle(broker.url(), genuine -> new PublicTopicKeys(genuine.topic(), genuine.keyset(),
                genuine.primaryKeyId(), genuine.keysetFingerprint(), genuine.policy(), genuine.policyId(), genuine.custody(),
                genuine.evidence(), genuine.primaryRotatesAt(), genuine.tdxCollateral(), genuine.logKey(),
                genuine.measurementLogIndex(), genuine.measurementLogIndex()));

        AttestationFailedException e = catchThrowableOfType(AttestationFailedException.class,
                () -> verifier(middle, trust(broker, Duration.ZERO), Clock.systemUTC()).verify(TOPIC));

        assertThat(e.code()).isEqualTo("not_in_log");
    }

    @Test
    void anAnswersLeaseIsProvenOnlyAsTheLogHoldsIt() throws Exception {
        KeyBrokerServer broker = broker("a");
        BrokerVerifier verifier = verifier(broker.url(), trust(broker, Duration.ZERO), Clock.systemUTC());
        verifier.verify(TOPIC);
        io.sealstream.keybroker.api.LeaseGrant grant = attestWorker(broker);
        io.sealstream.schemas.v1.Provenance honest = io.sealstream.schemas.v1.Provenance.newBuilder()
                .setLeaseId(io.sealstream.keybroker.api.LeaseGrant.idInToken(grant.token()))
                .setLeaseLogIndex(grant.logIndex()).setTee("snp").setMeasurement(WORKER_HEX).setModelDigest(MODEL_HEX)
                .build();

        boolean proven = proven(verifier, honest, java.time.Instant.now());
        io.sealstream.schemas.v1.Provenance otherMeasurement = io.sealstream.schemas.v1.Provenance.newBuilder(honest)
                .setMeasurement("ee".repeat(48)).build();
        io.sealstream.schemas.v1.Provenance otherModel = io.sealstream.schemas.v1.Provenance.newBuilder(honest)
                .setModelDigest("00".repeat(32)).build();
        io.sealstream.schemas.v1.Provenance otherLease = io.sealstream.schemas.v1.Provenance.newBuilder(honest)
                .setLeaseId("a-lease-the-log-does-not-hold-there").build();

        assertThat(proven).isTrue();
        java.time.Instant now = java.time.Instant.now();
        assertThat(proven(verifier, otherMeasurement, now)).as("the lease under another measurement").isFalse();
        assertThat(proven(verifier, otherModel, now)).as("a model the lease never loaded").isFalse();
        assertThat(proven(verifier, otherLease, now)).as("an index pointing at another lease").isFalse();
        assertThat(proven(verifier, honest, now.plus(Duration.ofDays(1)))).as("an answer sealed after its lease ended")
                .isFalse();
    }

    private static boolean proven(BrokerVerifier verifier, io.sealstream.schemas.v1.Provenance p, java.time.Instant sealedAt) {
        return verifier.leaseInLog(p, sealedAt, Runnable::run).join();
    }

    private static io.sealstream.keybroker.api.LeaseGrant attestWorker(KeyBrokerServer broker) throws Exception {
        KeyBrokerClient client = new KeyBrokerClient(broker.url(), Duration.ofSeconds(5));
        io.sealstream.envelope.TeeKeyPair tee = io.sealstream.envelope.TeeKeyPair.generate();
        byte[] nonce = client.challenge().nonce();
        byte[] model = HexFormat.of().parseHex(MODEL_HEX);
        io.sealstream.attestation.Evidence evidence = TEE.attest(HexFormat.of().parseHex(WORKER_HEX),
                io.sealstream.attestation.ReportDataBinding.forWorker(nonce, tee.publicKey(), model));
        return client.attest(new io.sealstream.keybroker.api.AttestRequest(nonce,
                io.sealstream.keybroker.api.EvidenceMessage.of(evidence), tee.publicKey(), List.of(model)));
    }

    private KeyBrokerServer broker(String name) {
        KeyBrokerServer s = KeyBrokerServer.start(KeyBrokerConfig.builder().dataDir(dir.resolve(name))
                .policy(AttestationPolicy.parse(POLICY)).verifier(TeeType.SNP, DEV_VERIFIER).ownEvidence(TEE.provider(BROKER))
                .topics(List.of(TOPIC)).custody(Custody.insecureDevFile()).build());
        started.add(s);
        return s;
    }

    private LogTrust logTrust(KeyBrokerServer broker, Duration minimumAge) throws Exception {
        byte[] key = new KeyBrokerClient(broker.url(), Duration.ofSeconds(5)).logKey().publicKey();
        return LogTrust.pinned(key, dir.resolve("client").resolve("log-head"), minimumAge);
    }

    private BrokerTrust trust(KeyBrokerServer broker, Duration minimumAge) throws Exception {
        return trust(logTrust(broker, minimumAge));
    }

    private static BrokerTrust trust(LogTrust log) {
        return BrokerTrust.pinned(DEV_VERIFIER, HexFormat.of().formatHex(BROKER), POLICY_ID).allowingDevCustody().withLog(log);
    }

    private static BrokerVerifier verifier(String url, BrokerTrust trust, Clock clock) {
        return new BrokerVerifier(new KeyBrokerClient(url, Duration.ofSeconds(5)), trust, clock);
    }

    /** A host in the middle: forwards everything to the broker, rewriting the public-keys answer. */
    private String middle(String brokerUrl, UnaryOperator<PublicTopicKeys> rewrite) throws IOException {
        HttpClient http = HttpClient.newHttpClient();
        HttpServer middle = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        middle.createContext("/", ex -> {
            try (ex) {
                HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(URI.create(brokerUrl
                        + ex.getRequestURI())).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                byte[] body = answer.body();
                if (answer.statusCode() == 200 && ex.getRequestURI().getPath().endsWith("/public")) {
                    body = KeyBrokerJson.mapper().writeValueAsBytes(rewrite.apply(
                            KeyBrokerJson.mapper().readValue(body, PublicTopicKeys.class)));
                }
                ex.sendResponseHeaders(answer.statusCode(), body.length);
                ex.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        middle.start();
        started.add(() -> middle.stop(0));
        return "http://127.0.0.1:" + middle.getAddress().getPort();
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().endsWith(".lock")) {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
