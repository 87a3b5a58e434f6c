package io.sealstream.cli.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.client.ChatCompletion;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.client.ConnectionFile;
import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.VerifiedTopic;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import io.sealstream.worker.engine.TinyGguf;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example of docs/client.md, run as written against the embedded stack. */
@WithLocalStack
class QuickstartExampleTest {

    /** The documented program; {@code System.out} is the caller's. */
    static void quickstart(String connectionFile, String chatModel) throws Exception {
        try (SealstreamClient client = ConnectionFile.read(Path.of(connectionFile)).clientBuilder()
                .requestTimeout(Duration.ofSeconds(30)).build()) {
            VerifiedTopic verified = client.verifyKeyBroker();           // attestation + pinned policy
            System.out.println("workers may serve " + verified.policy().allowedModelDigests());

            EmbeddingResult e = client.embeddings()
                    .createBlocking("all-minilm-l6-v2-q", List.of("a sealed sentence"));
            System.out.println(e.embeddings().get(0).length + " dimensions");

            CompletableFuture<ChatCompletion> story = client.chat().completions().create(
                    ChatCompletionRequest.builder(chatModel).user("Once upon a time")
                            .maxTokens(40).temperature(0).build());
            System.out.println(story.get().content());
        }
    }

    @TempDir
    static Path dir;
    private static Path gguf;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        gguf = TinyGguf.storiesOrWritten(dir, 2);
        return new LocalStack.Options().workers(1).partitions(1).engine(Engines::defaultEmbeddings).chatModel(gguf);
    }

    @Test
    void theDocumentedExampleRunsAgainstTheEmbeddedStack(LocalStack stack) throws Exception {
        String chatModel = gguf.getFileName().toString().replace(".gguf", "");
        Path connection = dir.resolve("connection.properties");
        stack.writeConnection("demo", connection);
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            quickstart(connection.toString(), chatModel);
        } finally {
            System.setOut(original);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);

        assertThat(printed).contains("workers may serve").contains("384 dimensions");
        assertThat(printed.lines().count()).isGreaterThanOrEqualTo(3);
    }
}
