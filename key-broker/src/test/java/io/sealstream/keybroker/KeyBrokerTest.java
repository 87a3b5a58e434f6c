package io.sealstream.keybroker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.TeeVerifiers;
import io.sealstream.attestation.azure.AzureEvidence;
import io.sealstream.attestation.azure.AzureVerifier;
import io.sealstream.attestation.nvidia.GpuEvidence;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxVerifier;
import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.TeeKeyPair;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.envelope.TopicPublicKeys;
import io.sealstream.keybroker.api.AttestRequest;
import io.sealstream.keybroker.api.AuthChallenge;
import io.sealstream.keybroker.api.EvidenceMessage;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.KeyRelease;
import io.sealstream.keybroker.api.LeaseGrant;
import io.sealstream.keybroker.api.PublicTopicKeys;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.http.KeyBrokerServer;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key broker over HTTP, with evidence from the simulated SNP TEE. */
class KeyBrokerTest {
    private static final String TOPIC = "sealstream.requests";
    private static final byte[] WORKER = filled(48, 0xC1);
    private static final byte[] BROKER = filled(48, 0xD2);
    private static final byte[] MODEL = filled(32, 0xA7);
    private static final byte[] CHAT_MODEL = filled(32, 0xC4);
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();

    @TempDir
    Path dataDir;
    private KeyBrokerServer server;
    private KeyBrokerClient client;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void anAttestedWorkerReceivesAKeysetThatOpensWhatClientsSeal() throws Exception {
        start(true);
        TeeKeyPair tee = TeeKeyPair.generate();

        String token = attest(tee, WORKER, MODEL).token();
        KeyRelease release = client.keys(token, TOPIC);
        TopicKeyset keyset = tee.openRelease(TOPIC, release.releasedKeyset(), token);
        PublicTopicKeys pub = client.publicKeys(TOPIC, filled(32, 1));
        ClientSession session = ClientSession.builder(TopicPublicKeys.parse(TOPIC, pub.keyset())).clientId("acme").build();
        InferenceRequest request = InferenceRequest.newBuilder().setModel("m")
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of("hello")).build()).build();

        assertThat(RequestOpener.builder().build(keyset).open(TOPIC, session.seal("r1", request).toRecord()).request())
                .isEqualTo(request);
        assertThat(release.primaryKeyId()).isEqualTo(pub.primaryKeyId());
    }

    @Test
    void publicKeysSayWhenTheNextPrimaryIsSurelyInForce() throws Exception {
        start(true);

        PublicTopicKeys pub = client.publicKeys(TOPIC, filled(32, 1));

        // the rotation is due after the interval and happens at the broker's next check
        java.time.Instant rotatesAt = java.time.Instant.parse(pub.primaryRotatesAt());
        assertThat(rotatesAt).isAfter(java.time.Instant.now().plus(io.sealstream.envelope.EnvelopeDefaults.ROTATION_INTERVAL)
                        .minusSeconds(60))
                .isBeforeOrEqualTo(java.time.Instant.now().plus(io.sealstream.envelope.EnvelopeDefaults.ROTATION_INTERVAL)
                        .plus(KeyBrokerConfig.DEFAULT_ROTATION_CHECK));
    }

    @Test
    void theNextKeyReachesWorkersBeforeClientsAndBecomesPrimaryWhenDue() throws Exception {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-11-30T10:00:00Z"));
        KeyBroker broker = new KeyBroker(config(true).clock(clock).rotationInterval(Duration.ofHours(1))
                .pendingLead(Duration.ofMinutes(3)).dataDir(dataDir.resolve("pending")).build());
        TopicKeyset before = broker.keyset(TOPIC);

        clock.set(java.time.Instant.parse("2026-11-30T10:57:30Z"));
        broker.rotateDue();
        TopicKeyset published = broker.keyset(TOPIC);
        clock.set(java.time.Instant.parse("2026-11-30T11:00:00Z"));
        broker.rotateDue();
        TopicKeyset promoted = broker.keyset(TOPIC);

        assertThat(published.primaryKeyId()).as("clients still get the old primary").isEqualTo(before.primaryKeyId());
        assertThat(published.pendingKeyId()).isPresent();
        assertThat(promoted.primaryKeyId()).isEqualTo(published.pendingKeyId().orElseThrow());
        assertThat(promoted.version()).isGreaterThan(published.version()).isGreaterThan(before.version());
    }

    @Test
    void aNonceCanBeUsedOnlyOnce() throws Exception {
        start(true);
        TeeKeyPair tee = TeeKeyPair.generate();
        AuthChallenge challenge = client.challenge();
        AttestRequest request = request(challenge.nonce(), tee, WORKER, MODEL);
        client.attest(request);

        assertRefused(() -> client.attest(request), 401, "stale_nonce");
    }

    @Test
    void evidenceCarryingTheBindingAsTextAsTheAttestationAgentWritesItIsGrantedALease() throws Exception {
        start(true);
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] nonce = client.challenge().nonce();
        byte[] binding = ReportDataBinding.forWorker(nonce, tee.publicKey(), MODEL);
        Evidence evidence = TEE.attest(WORKER, ReportDataBinding.textReportData(binding));

        LeaseGrant grant = client.attest(new AttestRequest(nonce, EvidenceMessage.of(evidence), tee.publicKey(), List.of(MODEL)));

        assertThat(grant.token()).isNotBlank();
    }

    @Test
    void evidenceCarryingAnotherKeysBindingAsTextIsRefused() throws Exception {
        start(true);
        byte[] nonce = client.challenge().nonce();
        TeeKeyPair attested = TeeKeyPair.generate();
        Evidence evidence = TEE.attest(WORKER, ReportDataBinding.textReportData(
                ReportDataBinding.forWorker(nonce, attested.publicKey(), MODEL)));

        assertRefused(() -> client.attest(new AttestRequest(nonce, EvidenceMessage.of(evidence),
                TeeKeyPair.generate().publicKey(), List.of(MODEL))), 401, "report_data_mismatch");
    }

    @Test
    void evidenceBoundToAnotherKeyIsRefused() throws Exception {
        start(true);
        AuthChallenge challenge = client.challenge();
        TeeKeyPair attested = TeeKeyPair.generate();
        Evidence evidence = TEE.attest(WORKER, ReportDataBinding.forWorker(challenge.nonce(), attested.publicKey(), MODEL));
        AttestRequest swapped = new AttestRequest(challenge.nonce(), EvidenceMessage.of(evidence),
                TeeKeyPair.generate().publicKey(), List.of(MODEL));

        assertRefused(() -> client.attest(swapped), 401, "report_data_mismatch");
    }

    @Test
    void aWorkerWithAnUnapprovedMeasurementGetsForbidden() {
        start(true);

        assertRefused(() -> attest(TeeKeyPair.generate(), filled(48, 0x66), MODEL), 403, "unknown_measurement");
    }

    @Test
    void aWorkerServingTwoApprovedModelsGetsALease() throws Exception {
        start(true);
        TeeKeyPair tee = TeeKeyPair.generate();

        LeaseGrant lease = attestServing(tee, List.of(MODEL, CHAT_MODEL));

        assertThat(lease.token()).isNotEmpty();
    }

    @Test
    void aWorkerServingOneUnapprovedModelAmongApprovedOnesGetsForbidden() {
        start(true);

        assertRefused(() -> attestServing(TeeKeyPair.generate(), List.of(MODEL, filled(32, 0xB8))), 403,
                "model_not_allowed");
    }

    @Test
    void aWorkerWithAnUnapprovedModelGetsForbidden() {
        start(true);

        assertRefused(() -> attest(TeeKeyPair.generate(), WORKER, filled(32, 0xB8)), 403, "model_not_allowed");
    }

    @Test
    void simulatedEvidenceIsForbiddenUnderAStrictPolicy() {
        start(false);

        assertRefused(() -> attest(TeeKeyPair.generate(), WORKER, MODEL), 403, "simulated_not_allowed");
    }

    @Test
    void debugEnabledGuestsAreForbidden() throws Exception {
        start(true);
        TeeKeyPair tee = TeeKeyPair.generate();
        AuthChallenge challenge = client.challenge();
        Evidence debug = TEE.attest(SimulatedSnpTee.report().debug(true).measurement(WORKER)
                .reportData(ReportDataBinding.forWorker(challenge.nonce(), tee.publicKey(), MODEL)));

        assertRefused(() -> client.attest(new AttestRequest(challenge.nonce(), EvidenceMessage.of(debug),
                tee.publicKey(), List.of(MODEL))), 403, "debug_enabled");
    }

    @Test
    void aGenuineAzureCaptureReplayedForAFreshNonceIsRefusedForItsBinding() throws Exception {
        Path capture = Path.of(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "azure", "tdx",
                "flashbots-2026-06-08", "derived");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(capture),
                "Azure TDX capture missing: " + capture + " (../shared/vectors is not beside the checkout)");
        Evidence replayed = AzureEvidence.fromParts(capture).toEvidence(List.of());
        TdxVerifier tdx = TdxVerifier.withIntelRoot().withCollateral(List.of(TdxCollateral.load(capture.resolve("collateral.json"))));
        String policy = """
                version: 1
                name: azure-replay
                models: [%s]
                tee:
                  azure-tdx:
                    mrtd: [ff450b138c5ee6734a43dc35afb437abfa24ef743bc9e9484ef4af365fcd89a6c50913248ed7fcb92a7d42b1ba7da984]
                    pcrs:
                      4: [ce2d8e909d4c5cfac5daf50cd23dbfc7a07066acb54c983ff9037e36bf8cb051]
                      7: [0d2b7f74a6e7911095cc135e72a45c5a97d7e17be11c218763f0e896ba4f9f1f]
                      9: [0626d8d430d70bc5eb4361424d87e73956cbaf07a6c0bd6f6cba1aa24f706311]
                  snp:
                    measurements: [%s]
                    host-data: ['%s']
                    min-tcb: {bootloader: 0, tee: 0, snp: 0, microcode: 0}
                """.formatted(HexFormat.of().formatHex(MODEL), HexFormat.of().formatHex(BROKER), "00".repeat(32));
        KeyBrokerConfig.Builder b = KeyBrokerConfig.builder().dataDir(dataDir).policy(AttestationPolicy.parse(policy))
                .clock(new MutableClock(Instant.parse("2026-06-08T12:42:41Z"))) // inside the capture's collateral window
                .ownEvidence(TEE.provider(BROKER)).topics(List.of(TOPIC)).custody(Custody.insecureDevFile());
        TeeVerifiers.of(SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot()), tdx,
                AzureVerifier.of(SnpVerifier.withAmdRoots(), tdx)).asMap().forEach(b::verifier);
        server = KeyBrokerServer.start(b.build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));
        TeeKeyPair tee = TeeKeyPair.generate();

        // genuine, quoted PCRs as pinned: only its user-data (all zeros) does not bind this nonce and key
        assertRefused(() -> client.attest(new AttestRequest(client.challenge().nonce(), EvidenceMessage.of(replayed),
                tee.publicKey(), List.of(MODEL))), 401, "report_data_mismatch");
    }

    @Test
    void aWorkerWithoutGpuEvidenceIsForbiddenWhenThePolicyRequiresGpus() {
        server = KeyBrokerServer.start(configWith("gpu: {architectures: [HOPPER]}\n").build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));

        assertRefused(() -> attest(TeeKeyPair.generate(), WORKER, MODEL), 403, "gpu_not_attested");
    }

    @Test
    void aGenuineGpuReportMadeForAnotherAttestationIsRefusedAsStale() throws Exception {
        Path gpu = Path.of(System.getProperty("sealstream.shared.dir", "../../shared"), "vectors", "nvidia", "attestation-sdk",
                "hopper-580.159.03");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(gpu),
                "NVIDIA capture missing: " + gpu + " (../shared/vectors is not beside the checkout)");
        List<byte[]> chain = new java.util.ArrayList<>();
        for (java.security.cert.Certificate c : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(
                java.nio.file.Files.newInputStream(gpu.resolve("hopperCertChain.txt")))) {
            chain.add(c.getEncoded());
        }
        GpuEvidence captured = new GpuEvidence(HexFormat.of().parseHex(
                java.nio.file.Files.readString(gpu.resolve("hopperAttestationReport.txt")).trim()), chain);
        server = KeyBrokerServer.start(configWith("gpu: {architectures: [HOPPER]}\n").build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] nonce = client.challenge().nonce();
        Evidence cpu = TEE.attest(WORKER, ReportDataBinding.forWorker(nonce, tee.publicKey(), MODEL));

        // genuine GPU, genuine CPU: the GPU report answers the nonce of its capture, not this attestation's
        assertRefused(() -> client.attest(new AttestRequest(nonce, EvidenceMessage.of(cpu), tee.publicKey(), List.of(MODEL),
                List.of(captured))), 401, "stale_nonce");
        byte[] again = client.challenge().nonce();
        Evidence cpuAgain = TEE.attest(WORKER, ReportDataBinding.forWorker(again, tee.publicKey(), MODEL));
        // one GPU sent twice counts as one GPU: refused before any signature is checked
        assertRefused(() -> client.attest(new AttestRequest(again, EvidenceMessage.of(cpuAgain), tee.publicKey(),
                List.of(MODEL), List.of(captured, captured))), 403, "gpu_not_allowed");
        // more GPUs than a system has: refused as a bad request, before the nonce is spent
        assertRefused(() -> client.attest(new AttestRequest(again, EvidenceMessage.of(cpuAgain), tee.publicKey(),
                List.of(MODEL), java.util.Collections.nCopies(AttestRequest.MAX_GPUS + 1, captured))), 400, "bad_request");
    }

    @Test
    void keysNeedAValidLeaseToken() {
        start(true);

        assertRefused(() -> client.keys("not-a-token", TOPIC), 401, "not_attested");
        assertRefused(() -> client.keys("djE.AAAA", TOPIC), 401, "not_attested");
    }

    @Test
    void keyRequestsWithoutALeaseAreAuditedAsASummaryNotOneEventEach() {
        List<java.util.Map<String, String>> denials = new java.util.concurrent.CopyOnWriteArrayList<>();
        server = KeyBrokerServer.start(config(true).auditSink((time, type, attributes) -> {
            if (type.equals("release.denied")) {
                denials.add(attributes);
            }
        }).build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));

        for (String topic : List.of("topic-an-attacker-names-0", "topic-an-attacker-names-1", "topic-an-attacker-names-2")) {
            assertRefused(() -> client.keys("not-a-token", topic), 401, "not_attested");
        }
        server.broker().auditUnattested();

        // one summary (two, if the rotation check ran in between), never the names the caller sent
        assertThat(denials).isNotEmpty().allSatisfy(d -> assertThat(d).containsOnlyKeys("code", "requests")
                .containsEntry("code", "not_attested"));
        assertThat(denials.stream().mapToLong(d -> Long.parseLong(d.get("requests"))).sum()).isEqualTo(3);
    }

    @Test
    void anUnknownTopicIsNotFound() throws Exception {
        start(true);
        LeaseGrant lease = attest(TeeKeyPair.generate(), WORKER, MODEL);

        assertRefused(() -> client.keys(lease.token(), "sealstream.requests.nobody"), 404, "unknown_topic");
        assertRefused(() -> client.publicKeys("sealstream.requests.nobody", filled(32, 1)), 404, "unknown_topic");
    }

    @Test
    void theBrokersOwnEvidenceBindsTheClientNonceTheKeysetThePolicyAndTheLogKey() throws Exception {
        start(true);
        byte[] nonce = filled(32, 0x5C);

        PublicTopicKeys pub = client.publicKeys(TOPIC, nonce);
        AttestedClaims claims = SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot())
                .verify(pub.evidence().toEvidence(), Instant.now());

        byte[] keysetSha = MessageDigest.getInstance("SHA-256").digest(pub.keyset());
        assertThat(claims.reportData()).isEqualTo(ReportDataBinding.forKeyBroker(nonce, keysetSha,
                HexFormat.of().parseHex(pub.policyId()), TOPIC, "dev", MessageDigest.getInstance("SHA-256").digest(pub.logKey())));
        assertThat(pub.custody()).isEqualTo("dev");
        assertThat(claims.measurement()).isEqualTo(BROKER);
        assertThat(AttestationPolicy.parse(pub.policy()).id()).isEqualTo(pub.policyId());
        assertThat(HexFormat.of().formatHex(keysetSha)).isEqualTo(pub.keysetFingerprint());
    }

    @Test
    void topicKeysetsSurviveABrokerRestart() throws Exception {
        start(true);
        String before = client.publicKeys(TOPIC, filled(32, 1)).keysetFingerprint();
        server.close();

        start(true);

        assertThat(client.publicKeys(TOPIC, filled(32, 2)).keysetFingerprint()).isEqualTo(before);
    }

    @Test
    void dueKeysRotateAndWorkersGetTheNewPrimary() throws Exception {
        start(true);
        long before = client.publicKeys(TOPIC, filled(32, 1)).primaryKeyId();
        server.close();
        server = KeyBrokerServer.start(config(true).rotationInterval(Duration.ofMillis(1)).build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));

        server.broker().rotateDue();

        assertThat(client.publicKeys(TOPIC, filled(32, 2)).primaryKeyId()).isNotEqualTo(before);
        TeeKeyPair tee = TeeKeyPair.generate();
        String token = attest(tee, WORKER, MODEL).token();
        KeyRelease release = client.keys(token, TOPIC);
        assertThat(tee.openRelease(TOPIC, release.releasedKeyset(), token).toString()).contains(Long.toString(before));
    }

    private void start(boolean allowSimulated) {
        server = KeyBrokerServer.start(config(allowSimulated).build());
        client = new KeyBrokerClient(server.url(), Duration.ofSeconds(10));
    }

    private KeyBrokerConfig.Builder config(boolean allowSimulated) {
        return config(allowSimulated, "");
    }

    /** The development-policy broker with {@code extra} top-level policy lines. */
    private KeyBrokerConfig.Builder configWith(String extra) {
        return config(true, extra);
    }

    private KeyBrokerConfig.Builder config(boolean allowSimulated, String extra) {
        String policy = extra + """
                version: 1
                name: key-broker-test
                allow-simulated: %s
                models: [%s, %s]
                tee:
                  snp:
                    measurements: [%s, %s]
                    host-data: ['%s']
                    min-tcb: {bootloader: 0, tee: 0, snp: 0, microcode: 0}
                """.formatted(allowSimulated, HexFormat.of().formatHex(MODEL), HexFormat.of().formatHex(CHAT_MODEL),
                HexFormat.of().formatHex(WORKER),
                HexFormat.of().formatHex(BROKER), "00".repeat(32)); // the simulated launches carry zero host data
        return KeyBrokerConfig.builder().dataDir(dataDir).policy(AttestationPolicy.parse(policy))
                .verifier(TeeType.SNP, SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot()))
                .ownEvidence(TEE.provider(BROKER)).topics(List.of(TOPIC)).custody(Custody.insecureDevFile());
    }

    @Test
    void aWorkerReadsItsLeaseExpiryFromInsideTheTokenNotFromTheAnswerBesideIt() throws Exception {
        start(true);

        LeaseGrant lease = attest(TeeKeyPair.generate(), WORKER, MODEL);

        // the token carries milliseconds
        assertThat(LeaseGrant.expiryInToken(lease.token()).toEpochMilli())
                .isEqualTo(java.time.Instant.parse(lease.expiresAt()).toEpochMilli());
        assertThatThrownBy(() -> LeaseGrant.expiryInToken("not-a-token")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFloodFromOneSourceIsRateLimitedAndAWorkerElsewhereKeepsReattesting() throws Exception {
        start(true);
        int port = java.net.URI.create(server.url()).getPort();
        java.util.concurrent.atomic.AtomicInteger ok = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger limited = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger busy = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger other = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        String nonce = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(filled(32, 9));
        List<Thread> flooders = new java.util.ArrayList<>();
        for (int t = 0; t < 8; t++) {
            flooders.add(new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < 10_000) {
                    String call = i % 2 == 0 ? "POST /v1/auth" : "GET /v1/keys/" + TOPIC + "/public?nonce=" + nonce;
                    int status = rawCallFrom("127.0.0.2", port, call);
                    (status == 200 ? ok : status == 429 ? limited : status == 503 ? busy : other).incrementAndGet();
                }
            }, "flooder-" + t));
        }
        List<Long> quiet = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            quiet.add(reattest());
        }
        flooders.forEach(Thread::start);
        List<Long> cycles = new java.util.ArrayList<>();
        while (next.get() < 10_000) {
            cycles.add(reattest());
            Thread.sleep(200);
        }
        for (Thread t : flooders) {
            t.join();
        }
        cycles.sort(null);
        quiet.sort(null);
        System.out.printf("flood of 10,000 from 127.0.0.2: %d answered, %d refused with 429, %d busy (503), %d other; "
                + "worker re-attested "
                + "%d times from 127.0.0.1 during it, median %.1f ms, max %.1f ms (without a flood: median %.1f ms)%n",
                ok.get(), limited.get(), busy.get(), other.get(), cycles.size(), cycles.get(cycles.size() / 2) / 1e6,
                cycles.get(cycles.size() - 1) / 1e6, quiet.get(quiet.size() / 2) / 1e6);

        assertThat(limited.get()).as("the flood was refused beyond its rate").isGreaterThan(ok.get());
        assertThat(other.get()).as("no 500s, no dropped connections").isZero();
        assertThat(cycles).as("the worker re-attested during the flood").isNotEmpty();
    }

    /** A worker's refresh from this address: nonce, attestation, release; its duration in nanoseconds. */
    private long reattest() throws Exception {
        long t0 = System.nanoTime();
        TeeKeyPair tee = TeeKeyPair.generate();
        String token = attest(tee, WORKER, MODEL).token();
        tee.openRelease(TOPIC, client.keys(token, TOPIC).releasedKeyset(), token);
        return System.nanoTime() - t0;
    }

    /** One HTTP call on its own connection from {@code sourceAddress}: the status code, or -1 if none came. */
    private static int rawCallFrom(String sourceAddress, int port, String methodAndPath) {
        try (java.net.Socket s = new java.net.Socket()) {
            s.bind(new java.net.InetSocketAddress(sourceAddress, 0));
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(10_000);
            String body = methodAndPath.startsWith("POST") ? "{}" : "";
            s.getOutputStream().write((methodAndPath + " HTTP/1.1\r\nHost: broker\r\nContent-Length: " + body.length()
                    + "\r\nConnection: close\r\n\r\n" + body).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String status = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                    java.nio.charset.StandardCharsets.US_ASCII)).readLine();
            return status == null ? -1 : Integer.parseInt(status.split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private LeaseGrant attest(TeeKeyPair tee, byte[] measurement, byte[] model) throws Exception {
        return client.attest(request(client.challenge().nonce(), tee, measurement, model));
    }

    private LeaseGrant attestServing(TeeKeyPair tee, List<byte[]> models) throws Exception {
        byte[] nonce = client.challenge().nonce();
        Evidence e = TEE.attest(WORKER, ReportDataBinding.forWorker(nonce, tee.publicKey(),
                ReportDataBinding.modelSetDigest(models)));
        return client.attest(new AttestRequest(nonce, EvidenceMessage.of(e), tee.publicKey(), models));
    }

    private static AttestRequest request(byte[] nonce, TeeKeyPair tee, byte[] measurement, byte[] model) {
        Evidence e = TEE.attest(measurement, ReportDataBinding.forWorker(nonce, tee.publicKey(), model));
        return new AttestRequest(nonce, EvidenceMessage.of(e), tee.publicKey(), List.of(model));
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, int status, String code) {
        KeyBrokerException e = catchThrowableOfType(KeyBrokerException.class, call);
        assertThat(e).as("expected %d %s", status, code).isNotNull();
        assertThat(e.status()).isEqualTo(status);
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.detail()).isNotBlank();
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
