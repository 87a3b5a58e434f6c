package io.sealstream.envelope;

import static io.sealstream.envelope.Fixtures.CANARY;
import static io.sealstream.envelope.Fixtures.CLIENT;
import static io.sealstream.envelope.Fixtures.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.TinkProtoKeysetFormat;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** No toString() of an envelope type shows key material or plaintext. */
class KeyMaterialRedactionTest {
    private final TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now()).rotate(Instant.now());
    private final ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId(CLIENT).build();

    @Test
    void keysetAndSessionDescriptionsCarryIdsOnly() throws Exception {
        OpenedRequest opened = RequestOpener.builder().build(keyset)
                .open(TOPIC, session.seal("r", Fixtures.embeddings(CANARY)).toRecord());
        List<Object> described = List.of(keyset, keyset.publicKeys(), session, opened,
                session.seal("r2", Fixtures.embeddings(CANARY)), new SessionKeyCache(), DataKey.random());
        byte[] privateKeyset = TinkProtoKeysetFormat.serializeKeyset(
                getHandle(keyset), InsecureSecretKeyAccess.get());

        for (Object o : described) {
            String text = o.toString();
            assertThat(text).as(o.getClass().getSimpleName()).doesNotContain(CANARY);
            for (String window : windows(privateKeyset)) {
                assertThat(text).as(o.getClass().getSimpleName()).doesNotContain(window);
            }
        }
        assertThat(keyset.toString()).contains(Long.toString(keyset.primaryKeyId()));
    }

    @Test
    void aDataKeyDescribesItselfWithoutItsBytes() {
        DataKey dek = DataKey.random();

        assertThat(dek.toString()).isEqualTo("DataKey[256-bit, redacted]");
        assertThat(dek.toString()).doesNotContain(HexFormat.of().formatHex(dek.material()).substring(0, 8));
    }

    /** 8-byte windows of the secret, in hex and base64, the forms a leak would take. */
    private static List<String> windows(byte[] secret) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (int i = 0; i + 8 <= secret.length; i += 8) {
            byte[] w = java.util.Arrays.copyOfRange(secret, i, i + 8);
            out.add(HexFormat.of().formatHex(w));
            out.add(Base64.getEncoder().withoutPadding().encodeToString(w).substring(0, 10));
        }
        return out;
    }

    private static com.google.crypto.tink.KeysetHandle getHandle(TopicKeyset keyset) throws Exception {
        java.lang.reflect.Field f = TopicKeyset.class.getDeclaredField("handle");
        f.setAccessible(true);
        return (com.google.crypto.tink.KeysetHandle) f.get(keyset);
    }
}
