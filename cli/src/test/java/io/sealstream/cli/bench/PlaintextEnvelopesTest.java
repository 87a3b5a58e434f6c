package io.sealstream.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.subtle.AesGcmJce;
import io.sealstream.envelope.ClientSession;
import io.sealstream.envelope.OpenedRequest;
import io.sealstream.envelope.OpenedResponse;
import io.sealstream.envelope.RequestOpener;
import io.sealstream.envelope.TopicKeyset;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The plaintext mode of the pipeline benchmark copies the envelope's payload and nothing else.
 * Each check runs on a fresh thread: Tink keeps one cipher per thread, made by whichever provider
 * led when the thread first encrypted.
 */
class PlaintextEnvelopesTest {
    private static final String TOPIC = "sealstream.requests.bench";
    private static final String CANARY = "canary-7f3a plaintext that only the copying mode shows";

    @Test
    void inPlaintextModeTheEnvelopeCarriesThePayloadInTheClearAndStillOpensOnBothSides() throws Exception {
        TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
        try (PlaintextEnvelopes mode = PlaintextEnvelopes.install()) {
            onFreshThread(() -> {
                ClientSession session = ClientSession.builder(keyset.publicKeys()).clientId("bench").build();
                EncryptedRequest sealed = session.seal(request()).toRecord();
                assertThat(contains(sealed.getCiphertext().array(), CANARY)).isTrue();

                OpenedRequest opened = RequestOpener.builder().build(keyset).open(TOPIC, sealed);
                assertThat(((EmbeddingsInput) opened.request().getTask()).getInput()).containsExactly(CANARY);
                OpenedResponse answer = session.open(opened.sealResponse(response(), Instant.now()));
                assertThat(answer.body().getModel()).isEqualTo("bench");
                return null;
            });
        }
    }

    @Test
    void otherAesGcmUsesInTheJvmStayEncryptedWhileThePlaintextModeIsInstalled() throws Exception {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        byte[] plaintext = CANARY.getBytes(StandardCharsets.UTF_8);
        byte[] aad = "tls-or-hpke".getBytes(StandardCharsets.UTF_8);
        byte[] ciphertext;
        try (PlaintextEnvelopes mode = PlaintextEnvelopes.install()) {
            ciphertext = onFreshThread(() -> new AesGcmJce(key).encrypt(plaintext, aad));
        }
        assertThat(contains(ciphertext, CANARY)).isFalse();
        byte[] decrypted = onFreshThread(() -> new AesGcmJce(key).decrypt(ciphertext, aad));
        assertThat(decrypted).as("real AES-GCM that the JDK's provider opens").isEqualTo(plaintext);
    }

    @Test
    void afterTheModeIsClosedEnvelopesAreEncryptedAgain() throws Exception {
        TopicKeyset keyset = TopicKeyset.generate(TOPIC, Instant.now());
        PlaintextEnvelopes.install().close();

        EncryptedRequest sealed = onFreshThread(() -> ClientSession.builder(keyset.publicKeys()).clientId("bench")
                .build().seal(request()).toRecord());

        assertThat(contains(sealed.getCiphertext().array(), CANARY)).isFalse();
    }

    private static <T> T onFreshThread(Callable<T> body) throws Exception {
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return thread.submit(body).get();
        } finally {
            thread.shutdownNow();
        }
    }

    private static InferenceRequest request() {
        return new InferenceRequest("bench", new EmbeddingsInput(List.of(CANARY)));
    }

    private static InferenceResponse response() {
        return InferenceResponse.newBuilder().setModel("bench").setError(null)
                .setOutput(new EmbeddingsResult(List.of(new Embedding(0, List.of(1f))), new Usage(1, 0, 1))).build();
    }

    private static boolean contains(byte[] haystack, String needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(new String(
                needle.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1));
    }
}
