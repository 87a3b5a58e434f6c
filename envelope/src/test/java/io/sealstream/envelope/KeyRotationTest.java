package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class KeyRotationTest {
    private static final Duration GRACE = Duration.ofHours(2);
    private final Instant start = Instant.parse("2026-11-24T10:00:00Z");
    private final TopicKeyset initial = TopicKeyset.generate(TOPIC, start);

    @Test
    void rotationMakesANewPrimaryAndDemotesTheOldOne() {
        TopicKeyset rotated = initial.rotate(start.plus(Duration.ofHours(1)));

        assertThat(rotated.primaryKeyId()).isNotEqualTo(initial.primaryKeyId());
        assertThat(rotated.state(rotated.primaryKeyId())).isEqualTo(KeyState.PRIMARY);
        assertThat(rotated.state(initial.primaryKeyId())).isEqualTo(KeyState.DECRYPT_ONLY);
        assertThat(initial.state(initial.primaryKeyId())).as("the original is unchanged").isEqualTo(KeyState.PRIMARY);
    }

    @Test
    void aSessionEndsWhenThePrimaryKeyRotatesThoughItsLifetimeIsLonger() {
        Fixtures.MovableClock clock = new Fixtures.MovableClock(start.plus(Duration.ofMinutes(50)));
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).clock(clock)
                .lifetime(Duration.ofMinutes(45)).notAfter(initial.primaryCreatedAt().plus(Duration.ofHours(1))).build();

        assertThat(session.expiresAt()).isEqualTo(start.plus(Duration.ofHours(1)));
        clock.advance(Duration.ofMinutes(10));
        assertThat(session.needsRenewal()).isTrue();
    }

    @Test
    void aRotationTimeAlreadyPastLeavesTheLifetimeInForce() {
        Fixtures.MovableClock clock = new Fixtures.MovableClock(start.plus(Duration.ofHours(2)));

        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).clock(clock)
                .lifetime(Duration.ofMinutes(45)).notAfter(start.plus(Duration.ofHours(1))).build();

        assertThat(session.expiresAt()).isEqualTo(start.plus(Duration.ofHours(2)).plus(Duration.ofMinutes(45)));
    }

    @Test
    void newSessionsWrapToTheNewPrimary() {
        TopicKeyset rotated = initial.rotate(start.plus(Duration.ofHours(1)));

        ClientSession session = ClientSession.builder(rotated.publicKeys()).clientId(CLIENT).build();

        assertThat(session.keyId()).isEqualTo(rotated.primaryKeyId());
    }

    @Test
    void aPendingKeyReachesWorkersButClientsKeepSealingToThePrimary() throws Exception {
        TopicKeyset published = initial.withPending(start.plus(Duration.ofMinutes(57)));
        long pending = published.pendingKeyId().orElseThrow();

        assertThat(published.state(pending)).isEqualTo(KeyState.PENDING);
        assertThat(published.primaryKeyId()).isEqualTo(initial.primaryKeyId());
        assertThat(ClientSession.builder(published.publicKeys()).clientId(CLIENT).build().keyId())
                .isEqualTo(initial.primaryKeyId());
        assertThat(published.withPending(start.plus(Duration.ofMinutes(58)))).as("one pending key at a time")
                .isSameAs(published);
    }

    @Test
    void promotingThePendingKeyMakesItPrimaryAndAWorkerThatHeldItOpensTheFirstRecordsSealedToIt() throws Exception {
        TopicKeyset published = initial.withPending(start.plus(Duration.ofMinutes(57)));
        RequestOpener worker = RequestOpener.builder().clock(new Fixtures.MovableClock(start.plus(Duration.ofHours(1))))
                .build(published); // refreshed before the rotation
        TopicKeyset promoted = published.promotePending(start.plus(Duration.ofHours(1)));

        EncryptedRequest first = seal(promoted);

        assertThat(promoted.primaryKeyId()).isEqualTo(published.pendingKeyId().orElseThrow());
        assertThat(promoted.state(initial.primaryKeyId())).isEqualTo(KeyState.DECRYPT_ONLY);
        assertThat(promoted.primaryCreatedAt()).as("the next rotation counts from the promotion")
                .isEqualTo(start.plus(Duration.ofHours(1)));
        assertThat(worker.open(TOPIC, first).requestId()).isEqualTo(first.getRequestId());
    }

    @Test
    void everyChangeRaisesTheVersionAndAWorkerNeverInstallsAnOlderKeyset() throws Exception {
        TopicKeyset published = initial.withPending(start.plus(Duration.ofMinutes(57)));
        TopicKeyset promoted = published.promotePending(start.plus(Duration.ofHours(1)));
        RequestOpener worker = RequestOpener.builder().clock(new Fixtures.MovableClock(start.plus(Duration.ofHours(1))))
                .build(promoted);

        boolean rolledBack = worker.install(initial);

        assertThat(initial.version()).isLessThan(published.version());
        assertThat(published.version()).isLessThan(promoted.version());
        assertThat(rolledBack).isFalse();
        assertThat(worker.installedVersion(TOPIC)).isEqualTo(promoted.version());
        EncryptedRequest current = seal(promoted);
        assertThat(worker.open(TOPIC, current).requestId()).isEqualTo(current.getRequestId());
    }

    @Test
    void recordsSealedToADemotedKeyStillOpenDuringGrace() throws Exception {
        EncryptedRequest inFlight = seal(initial);
        TopicKeyset rotated = initial.rotate(start.plus(Duration.ofHours(1)))
                .retireExpired(start.plus(Duration.ofHours(2)), GRACE);

        OpenedRequest opened = RequestOpener.builder().clock(new Fixtures.MovableClock(start.plus(Duration.ofHours(2))))
                .build(rotated).open(TOPIC, inFlight);

        assertThat(opened.requestId()).isEqualTo(inFlight.getRequestId());
    }

    @Test
    void afterGraceTheKeyIsRetiredAndItsRecordsAreRefusedAsRetired() {
        EncryptedRequest late = seal(initial);
        TopicKeyset retired = initial.rotate(start.plus(Duration.ofHours(1)))
                .retireExpired(start.plus(Duration.ofHours(3)), GRACE);

        RetiredKeyException e = catchThrowableOfType(RetiredKeyException.class,
                () -> RequestOpener.builder().build(retired).open(TOPIC, late));

        assertThat(retired.state(initial.primaryKeyId())).isEqualTo(KeyState.RETIRED);
        assertThat(e.keyId()).isEqualTo(initial.primaryKeyId());
        assertThat(e.reason()).isEqualTo(ErrorCode.RETIRED_KEY);
        assertThat(e).hasMessageContaining("open a new session");
    }

    @Test
    void retiringBeforeGraceEndsChangesNothing() {
        TopicKeyset rotated = initial.rotate(start.plus(Duration.ofHours(1)));

        assertThat(rotated.retireExpired(start.plus(Duration.ofMinutes(150)), GRACE)).isSameAs(rotated);
    }

    @Test
    void aKeyIdTheTopicNeverHadIsUnknown() {
        EncryptedRequest foreign = seal(TopicKeyset.generate(TOPIC, start));

        UnknownKeyException e = catchThrowableOfType(UnknownKeyException.class,
                () -> RequestOpener.builder().build(initial).open(TOPIC, foreign));

        assertThat(e.reason()).isEqualTo(ErrorCode.UNKNOWN_KEY);
        assertThat(initial.state(foreign.getKeyId())).isEqualTo(KeyState.UNKNOWN);
    }

    @Test
    void rotationIsDueOnceThePrimaryIsAsOldAsTheInterval() {
        assertThat(initial.rotationDue(start.plus(Duration.ofMinutes(59)), Duration.ofHours(1))).isFalse();
        assertThat(initial.rotationDue(start.plus(Duration.ofHours(1)), Duration.ofHours(1))).isTrue();
    }

    @Test
    void publicKeysSurviveSerializationAndStillSeal() throws Exception {
        TopicPublicKeys parsed = TopicPublicKeys.parse(TOPIC, initial.publicKeys().toBytes());
        ClientSession session = ClientSession.builder(parsed).clientId(CLIENT).build();

        OpenedRequest opened = RequestOpener.builder().build(initial)
                .open(TOPIC, session.seal("r", Fixtures.embeddings(CANARY)).toRecord());

        assertThat(parsed.fingerprint()).isEqualTo(initial.publicKeys().fingerprint()).hasSize(64);
        assertThat(opened.requestId()).isEqualTo("r");
    }

    @Test
    void aPublicKeysetOfAnotherSuiteIsRejected() throws Exception {
        com.google.crypto.tink.hybrid.HybridConfig.register();
        byte[] ecies = com.google.crypto.tink.TinkProtoKeysetFormat.serializeKeysetWithoutSecret(
                com.google.crypto.tink.KeysetHandle.generateNew(
                        com.google.crypto.tink.hybrid.PredefinedHybridParameters
                                .ECIES_P256_HKDF_HMAC_SHA256_AES128_GCM).getPublicKeysetHandle());

        assertThatThrownBy(() -> TopicPublicKeys.parse(TOPIC, ecies))
                .hasMessageContaining("is not an HPKE P-384/AES-256-GCM public key");
    }

    @Test
    void anExpiredRequestIsRefusedAfterAuthentication() {
        Fixtures.MovableClock clock = new Fixtures.MovableClock(start);
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).clock(clock).build();
        EncryptedRequest old = session.seal("old", Fixtures.embeddings(CANARY)).toRecord();
        clock.advance(Duration.ofMinutes(11));
        RequestOpener opener = RequestOpener.builder().clock(clock).maxRequestAge(Duration.ofMinutes(10)).build(initial);

        assertThatThrownBy(() -> opener.open(TOPIC, old))
                .isInstanceOf(ExpiredRequestException.class)
                .hasMessageContaining("660 s old");
    }

    @Test
    void theClientIsToldUnderItsResponseKeyThatItsRequestExpired() throws Exception {
        Fixtures.MovableClock clock = new Fixtures.MovableClock(start);
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).clock(clock).build();
        EncryptedRequest old = session.seal("old", Fixtures.embeddings(CANARY)).toRecord();
        clock.advance(Duration.ofMinutes(11));
        RequestOpener opener = RequestOpener.builder().clock(clock).maxRequestAge(Duration.ofMinutes(10)).build(initial);
        ExpiredRequestException e = catchThrowableOfType(ExpiredRequestException.class, () -> opener.open(TOPIC, old));

        OpenedResponse answer = session.open(e.responder().orElseThrow().sealError("all-minilm-l6-v2", ErrorCode.EXPIRED.code(),
                e.getMessage(), clock.instant()));

        assertThat(answer.requestId()).isEqualTo("old");
        assertThat(answer.body().getError().getCode()).isEqualTo("expired");
    }

    @Test
    void aSessionStopsSealingAtTheEndOfItsLifetime() {
        Fixtures.MovableClock clock = new Fixtures.MovableClock(start);
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT)
                .lifetime(Duration.ofMinutes(45)).clock(clock).build();
        clock.advance(Duration.ofMinutes(45));

        assertThat(session.needsRenewal()).isTrue();
        assertThatThrownBy(() -> session.seal(Fixtures.embeddings(CANARY)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("expired");
    }

    @Test
    void aSessionStopsSealingAtItsRecordBudget() {
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).maxRecords(2).build();
        session.seal(Fixtures.embeddings(CANARY));
        session.seal(Fixtures.embeddings(CANARY));

        assertThat(session.needsRenewal()).isTrue();
        assertThatThrownBy(() -> session.seal(Fixtures.embeddings(CANARY)))
                .hasMessageContaining("sealed its 2 records");
    }

    @Test
    void aSessionCachedBeforeItsKeyRetiredIsRefusedAfterwards() throws Exception {
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT)
                .clock(new Fixtures.MovableClock(start)).build();
        Fixtures.MovableClock workerClock = new Fixtures.MovableClock(start);
        RequestOpener opener = RequestOpener.builder().clock(workerClock).build(initial);
        opener.open(TOPIC, session.seal("first", Fixtures.embeddings(CANARY)).toRecord());
        EncryptedRequest late = session.seal("late", Fixtures.embeddings(CANARY)).toRecord();

        opener.install(initial.rotate(start.plus(Duration.ofHours(1))).retireExpired(start.plus(Duration.ofHours(3)), GRACE));

        assertThatThrownBy(() -> opener.open(TOPIC, late)).isInstanceOf(RetiredKeyException.class);
    }

    @Test
    void aRequestFromTheFutureIsAnsweredAsMalformed() throws Exception {
        Fixtures.MovableClock clientClock = new Fixtures.MovableClock(start.plus(Duration.ofMinutes(6)));
        ClientSession session = ClientSession.builder(initial.publicKeys()).clientId(CLIENT).clock(clientClock).build();
        RequestOpener opener = RequestOpener.builder().clock(new Fixtures.MovableClock(start)).build(initial);
        EncryptedRequest ahead = session.seal("ahead", Fixtures.embeddings(CANARY)).toRecord();

        MalformedEnvelopeException e = catchThrowableOfType(MalformedEnvelopeException.class,
                () -> opener.open(TOPIC, ahead));

        assertThat(e).hasMessageContaining("360 s in the future");
        assertThat(e.responder()).isPresent();
    }

    private EncryptedRequest seal(TopicKeyset keyset) {
        return ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).clock(new Fixtures.MovableClock(start))
                .build().seal(Fixtures.embeddings(CANARY)).toRecord();
    }
}
