package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AeadConfig;
import com.google.crypto.tink.aead.PredefinedAeadParameters;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** How a topic keyset is kept at rest by the key broker and released to an attested TEE. */
class KeysetCustodyTest {
    private final Instant start = Instant.now();
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, start.minus(Duration.ofHours(4)))
            .rotate(start.minus(Duration.ofHours(3)))
            .rotate(start.minus(Duration.ofHours(1)))
            .retireExpired(start, Duration.ofHours(2));

    @Test
    void aSealedKeysetOpensWithItsKekWithKeysAndRotationState() throws Exception {
        Aead kek = kek();

        TopicKeyset reopened = TopicKeyset.fromSealed(keyset.toSealed(kek), kek);

        assertThat(reopened.toString()).isEqualTo(keyset.toString());
        assertThat(reopened.primaryKeyId()).isEqualTo(keyset.primaryKeyId());
        assertThat(reopened.publicKeys().fingerprint()).isEqualTo(keyset.publicKeys().fingerprint());
        assertOpens(reopened, keyset);
    }

    @Test
    void aSealedKeysetDoesNotOpenUnderAnotherKek() {
        byte[] sealed = keyset.toSealed(kek());

        assertThatThrownBy(() -> TopicKeyset.fromSealed(sealed, kek())).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void alteredRotationStateIsDetected() {
        Aead kek = kek();
        byte[] sealed = keyset.toSealed(kek);
        sealed[10] ^= 1; // inside the rotation state, which is authenticated but not encrypted

        assertThatThrownBy(() -> TopicKeyset.fromSealed(sealed, kek)).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void theVersionSurvivesSealingAtRest() throws Exception {
        Instant t = Instant.parse("2026-11-30T10:00:00Z");
        TopicKeyset promoted = keyset.withPending(t).promotePending(t.plusSeconds(60));
        Aead kek = kek();

        assertThat(TopicKeyset.fromSealed(promoted.toSealed(kek), kek).version()).isEqualTo(promoted.version())
                .isGreaterThan(keyset.version());
    }

    @Test
    void theSealedFormHoldsNoPrivateKeyInTheClear() throws Exception {
        byte[] sealed = keyset.toSealed(kek());
        KeysetHandle handle = handleOf(keyset);

        for (int i = 0; i < handle.size(); i++) {
            byte[] privateKey = ((com.google.crypto.tink.hybrid.HpkePrivateKey) handle.getAt(i).getKey())
                    .getPrivateKeyBytes().toByteArray(com.google.crypto.tink.InsecureSecretKeyAccess.get());
            assertThat(privateKey).hasSizeGreaterThanOrEqualTo(48);
            assertThat(indexOf(sealed, privateKey)).as("private key %d in the sealed bytes", i).isEqualTo(-1);
        }
    }

    @Test
    void aReleasedKeysetOpensOnlyInTheTeeItWasReleasedTo() throws Exception {
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] released = keyset.releaseTo(tee.publicKey(), "lease-1");

        TopicKeyset received = tee.openRelease(TOPIC, released, "lease-1");

        assertOpens(received, keyset);
        assertThatThrownBy(() -> TeeKeyPair.generate().openRelease(TOPIC, released, "lease-1"))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void aReleaseRecordedUnderAnEarlierLeaseDoesNotOpenUnderTheCurrentOne() throws Exception {
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] old = keyset.releaseTo(tee.publicKey(), "lease-1");

        assertThatThrownBy(() -> tee.openRelease(TOPIC, old, "lease-2")).isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void aKeysetReleasedForOneTopicIsRefusedForAnother() throws Exception {
        TeeKeyPair tee = TeeKeyPair.generate();
        byte[] released = keyset.releaseTo(tee.publicKey(), "lease-1");

        assertThatThrownBy(() -> tee.openRelease("sealstream.requests.other", released, "lease-1"))
                .isInstanceOf(GeneralSecurityException.class);
    }

    @Test
    void aKeysetIsNeverReleasedToAKeyOfAnotherSuite() throws Exception {
        com.google.crypto.tink.hybrid.HybridConfig.register();
        byte[] ecies = com.google.crypto.tink.TinkProtoKeysetFormat.serializeKeysetWithoutSecret(
                KeysetHandle.generateNew(com.google.crypto.tink.hybrid.PredefinedHybridParameters
                        .ECIES_P256_HKDF_HMAC_SHA256_AES128_GCM).getPublicKeysetHandle());

        assertThatThrownBy(() -> keyset.releaseTo(ecies, "lease-1")).hasMessageContaining("not an HPKE P-384");
    }

    @Test
    void theTeeKeyPairDescribesItselfWithoutItsPrivateKey() {
        assertThat(TeeKeyPair.generate().toString()).contains("private=redacted");
    }

    private static void assertOpens(TopicKeyset opener, TopicKeyset sealer) throws Exception {
        ClientSession session = ClientSession.builder(sealer.publicKeys()).clientId(CLIENT).build();
        OpenedRequest opened = RequestOpener.builder().build(opener)
                .open(TOPIC, session.seal("r", Fixtures.embeddings(CANARY)).toRecord());
        assertThat(opened.request()).isEqualTo(Fixtures.embeddings(CANARY));
    }

    private static Aead kek() {
        try {
            AeadConfig.register();
            return KeysetHandle.generateNew(PredefinedAeadParameters.AES256_GCM)
                    .getPrimitive(RegistryConfiguration.get(), Aead.class);
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static KeysetHandle handleOf(TopicKeyset keyset) throws Exception {
        java.lang.reflect.Field f = TopicKeyset.class.getDeclaredField("handle");
        f.setAccessible(true);
        return (KeysetHandle) f.get(keyset);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
