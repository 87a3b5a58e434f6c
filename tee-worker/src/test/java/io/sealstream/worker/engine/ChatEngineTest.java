package io.sealstream.worker.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.FinishReason;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The llama.cpp chat engine on stories260K (../shared/models, see its PROVENANCE.md) when present,
 * and on a random-weight GGUF this test writes either way.
 */
class ChatEngineTest {
    private static final String STORY = ", there was a little girl named Lily. She loved to play outside in the park.";
    @TempDir
    static Path dir;
    private static ChatEngine stories;
    private static ChatEngine tiny;

    @BeforeAll
    static void load() throws Exception {
        Path shared = storiesModel();
        if (Files.isRegularFile(shared)) {
            stories = ChatEngine.load(ChatModel.of(shared));
        }
        tiny = ChatEngine.load(ChatModel.of(TinyGguf.write(dir.resolve("tiny-random.gguf"), 7)).withParallelSlots(2));
    }

    @AfterAll
    static void close() {
        if (stories != null) {
            stories.close();
        }
        tiny.close();
    }

    @Test
    void greedyDecodingContinuesTheStoryAsLlamaCppDoes() {
        ChatResult r = stories().complete(user("Once upon a time"), params(40, 0f, null));

        assertThat(r.getContent()).startsWith(STORY);
        assertThat(r.getFinishReason()).isEqualTo(FinishReason.length);
        assertThat(r.getUsage().getCompletionTokens()).isEqualTo(40);
        assertThat(r.getUsage().getPromptTokens()).isEqualTo(5); // BOS and four word pieces
    }

    @Test
    void maxTokensBoundsTheCompletion() {
        ChatResult r = stories().complete(user("Once upon a time"), params(5, 0f, null));

        assertThat(r.getUsage().getCompletionTokens()).isEqualTo(5);
        assertThat(r.getFinishReason()).isEqualTo(FinishReason.length);
        assertThat(STORY).startsWith(r.getContent());
    }

    @Test
    void aStopSequenceEndsTheTextBeforeIt() {
        ChatResult r = stories().complete(user("Once upon a time"), params(60, 0f, List.of("Lily", "zebra")));

        assertThat(r.getContent()).isEqualTo(", there was a little girl named ");
        assertThat(r.getFinishReason()).isEqualTo(FinishReason.stop);
    }

    @Test
    void theSameSeedSamplesTheSameText() {
        ChatParameters sampled = new ChatParameters(30, 0.9f, 0.95f, List.of(), 1234L, false);

        String first = stories().complete(user("Once upon a time"), sampled).getContent();
        String second = stories().complete(user("Once upon a time"), sampled).getContent();

        assertThat(second).isEqualTo(first);
    }

    @Test
    void theModelDigestIsTheFilesSha256() {
        assertThat(HexFormat.of().formatHex(stories().modelDigest()))
                .isEqualTo("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    }

    @Test
    void aBatchIsAnsweredInOrderAndMatchesSingleCompletions() {
        List<InferenceRequest> batch = List.of(chat("Once upon a time", 12), chat("The cat", 12),
                chat("Once upon a time", 12), chat("One day", 12));

        List<InferenceResponse> out = tiny.infer(batch);

        assertThat(out).hasSize(4).allSatisfy(r -> assertThat(r.getError()).isNull());
        assertThat(content(out.get(0))).isEqualTo(content(out.get(2)))
                .isEqualTo(tiny.complete(user("Once upon a time"), params(12, 0f, null)).getContent());
        assertThat(content(out.get(1))).isEqualTo(tiny.complete(user("The cat"), params(12, 0f, null)).getContent());
    }

    @Test
    void theRandomWeightModelLoadsAndItsDigestIsItsFilesSha256() throws Exception {
        byte[] file = Files.readAllBytes(dir.resolve("tiny-random.gguf"));

        assertThat(tiny.modelDigest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest(file));
        assertThat(tiny.models()).containsExactly("tiny-random");
    }

    @Test
    void aHostThatServesOneFileToTheHashAndAnotherToTheLoaderCannotSwapTheModel() throws Exception {
        // a FIFO plays the host: model A on the first open, another model B on every later one
        byte[] a = Files.readAllBytes(dir.resolve("tiny-random.gguf"));
        byte[] b = Files.readAllBytes(TinyGguf.write(dir.resolve("other-weights.gguf"), 8));
        Path served = dir.resolve("served.gguf");
        assumeTrue(new ProcessBuilder("mkfifo", served.toString()).start().waitFor() == 0, "mkfifo is missing");
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "no /proc/self/fd to see when the reader closed");
        java.util.concurrent.atomic.AtomicInteger opens = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread host = new Thread(() -> {
            while (!stop.get()) {
                try (java.io.OutputStream out = Files.newOutputStream(served)) { // waits for a reader to open
                    out.write(opens.getAndIncrement() == 0 ? a : b);
                } catch (java.io.IOException e) {
                    return; // no reader any more
                }
                // the next round opens only once the reader that had this whole file closed it: a writer that
                // opened while it still read would append to the same stream
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                while (openInThisProcess(served) && !stop.get() && System.nanoTime() < deadline) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }
        }, "fifo-host");
        host.setDaemon(true);
        host.start();

        try (ChatEngine loaded = ChatEngine.load(ChatModel.of(served).withParallelSlots(2).withScratchDir(dir.resolve("scratch")))) {
            assertThat(opens.get()).as("the model file is read once").isEqualTo(1);
            assertThat(loaded.modelDigest()).as("the digest is A's").isEqualTo(MessageDigest.getInstance("SHA-256").digest(a));
            assertThat(loaded.complete(user("Once upon a time"), params(12, 0f, null)).getContent())
                    .as("and A is what runs").isEqualTo(tiny.complete(user("Once upon a time"), params(12, 0f, null)).getContent());
        } finally {
            // a read-write open of a FIFO never blocks and releases a host waiting for a reader; closing it
            // makes the host's write fail, so it stops
            stop.set(true);
            try (java.nio.channels.FileChannel release = java.nio.channels.FileChannel.open(served,
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
                host.join(500);
            }
            host.join(5_000);
        }
        try (java.util.stream.Stream<Path> left = Files.list(dir.resolve("scratch"))) {
            assertThat(left).as("the copy is deleted once loaded").isEmpty();
        }
    }

    /** Whether a descriptor of this process has {@code fifo} open: the reader's, once the host closed its own. */
    private static boolean openInThisProcess(Path fifo) {
        try (java.util.stream.Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            Path target = fifo.toRealPath();
            return fds.anyMatch(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(target);
                } catch (java.io.IOException e) {
                    return false; // a descriptor closed while listed
                }
            });
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void anEmbeddingsRequestGetsUnsupportedTask() {
        InferenceRequest r = new InferenceRequest("tiny-random", new EmbeddingsInput(List.of("a")));

        assertThat(tiny.infer(List.of(r)).get(0).getError().getCode()).isEqualTo("unsupported_task");
    }

    @Test
    void aRequestForAnotherModelGetsModelNotServed() {
        InferenceRequest r = new InferenceRequest("gpt-4", chatInput("hi", 5));

        assertThat(tiny.infer(List.of(r)).get(0).getError().getCode()).isEqualTo("model_not_served");
    }

    @Test
    void promptPlusMaxTokensBeyondTheSequenceContextIsInvalidAndNamesTheNumbers() {
        InferenceResponse r = tiny.infer(List.of(chat("Once upon a time", tiny.sequenceContext()))).get(0);

        assertThat(r.getError().getCode()).isEqualTo("invalid_request");
        assertThat(r.getError().getMessage()).contains("max_tokens is " + tiny.sequenceContext())
                .doesNotContain("Once upon");
    }

    @Test
    void outOfRangeSamplingParametersAreInvalid() {
        for (ChatParameters p : List.of(params(0, 0f, null), params(5, 3f, null),
                new ChatParameters(5, 0f, 0f, List.of(), null, false), params(5, 0f, List.of("a", "b", "c", "d", "e")))) {
            InferenceRequest r = new InferenceRequest("tiny-random",
                    new ChatInput(List.of(new ChatMessage(ChatRole.user, "hi")), p));
            assertThat(tiny.infer(List.of(r)).get(0).getError().getCode()).as(p.toString()).isEqualTo("invalid_request");
        }
    }

    @Test
    void aFileThatIsNotGgufIsRefusedWithItsName() throws Exception {
        Path bogus = Files.write(dir.resolve("bogus.gguf"), "not a model".getBytes());

        assertThatThrownBy(() -> ChatEngine.load(ChatModel.of(bogus))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bogus.gguf").hasMessageContaining("not a GGUF file");
    }

    @Test
    void aTruncatedGgufIsRefusedBeforeLlamaCppSeesIt() throws Exception {
        byte[] whole = Files.readAllBytes(dir.resolve("tiny-random.gguf"));
        Path cut = Files.write(dir.resolve("cut.gguf"), Arrays.copyOf(whole, 200));

        assertThatThrownBy(() -> ChatEngine.load(ChatModel.of(cut))).hasMessageContaining("truncated");
    }

    @Test
    void aModelWithAChatTemplateRendersItAndTakesASystemMessageOnlyFirst() throws Exception {
        String chatml = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
        try (ChatEngine templated = ChatEngine.load(ChatModel.of(TinyGguf.write(dir.resolve("chatml.gguf"), 3, chatml))
                .withParallelSlots(1))) {
            ChatParameters p = params(4, 0f, null);
            InferenceRequest ok = new InferenceRequest("chatml", new ChatInput(List.of(
                    new ChatMessage(ChatRole.system, "Be brief."), new ChatMessage(ChatRole.user, "Hello")), p));
            InferenceRequest late = new InferenceRequest("chatml", new ChatInput(List.of(
                    new ChatMessage(ChatRole.user, "Hello"), new ChatMessage(ChatRole.system, "Be brief.")), p));

            List<InferenceResponse> out = templated.infer(List.of(ok, late));

            assertThat(out.get(0).getError()).isNull();
            assertThat(((ChatResult) out.get(0).getOutput()).getUsage().getPromptTokens())
                    .as("the template's markup is part of the prompt").isGreaterThan(10);
            assertThat(out.get(1).getError().getCode()).isEqualTo("invalid_request");
            assertThat(out.get(1).getError().getMessage()).contains("system message");
        }
    }

    @Test
    void aClosedEngineAnswersEngineClosedAndRefusesDirectCalls() throws Exception {
        ChatEngine closing = ChatEngine.load(ChatModel.of(TinyGguf.write(dir.resolve("closing.gguf"), 4)).withParallelSlots(1));
        closing.close();

        assertThat(closing.infer(List.of(new InferenceRequest("closing", chatInput("hi", 3)))).get(0).getError()
                .getCode()).isEqualTo("engine_closed");
        assertThatThrownBy(() -> closing.complete(user("hi"), params(3, 0f, null)))
                .isInstanceOf(IllegalStateException.class);
        closing.close(); // a second close does nothing
    }

    @Test
    void aConversationWithoutATemplateUsesThePlainFormat() {
        String prompt = ChatPrompt.plain(List.of(new ChatMessage(ChatRole.system, "Be brief."),
                new ChatMessage(ChatRole.user, "Hello")));

        assertThat(prompt).isEqualTo("System: Be brief.\nUser: Hello\nAssistant:");
        assertThat(ChatPrompt.plain(user("Once upon a time"))).isEqualTo("Once upon a time");
    }

    private static ChatEngine stories() {
        assumeTrue(stories != null, "stories260K missing: " + storiesModel() + " (../shared/models is not beside the checkout)");
        return stories;
    }

    private static Path storiesModel() {
        return Paths.get(System.getProperty("sealstream.shared.dir", "../../shared"), "models", "stories260K.gguf");
    }

    private static List<ChatMessage> user(String text) {
        return List.of(new ChatMessage(ChatRole.user, text));
    }

    private static ChatParameters params(int maxTokens, float temperature, List<String> stop) {
        return new ChatParameters(maxTokens, temperature, null, stop == null ? List.of() : stop, null, false);
    }

    private static ChatInput chatInput(String text, int maxTokens) {
        return new ChatInput(user(text), params(maxTokens, 0f, null));
    }

    private static InferenceRequest chat(String text, int maxTokens) {
        return new InferenceRequest("tiny-random", chatInput(text, maxTokens));
    }

    private static String content(InferenceResponse r) {
        return ((ChatResult) r.getOutput()).getContent();
    }
}
