package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.client.ChatCompletion;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.ChatModel;
import io.sealstream.worker.engine.TinyGguf;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chat completions through the whole confidential pipeline: one worker serving embeddings and
 * chat, the chat model being stories260K from ../shared/models, or a random-weight GGUF this test
 * writes where ../shared is absent (the loader, the engine and the pipeline are the same).
 */
@WithLocalStack
class ConfidentialChatPipelineTest {
    private static final String CANARY = "CANARY-chat-51f0aa-confidential-plot";
    @TempDir
    static Path dir;
    private static LogCapture logs;
    private static LocalStack stack;
    private static ChatEngine engine;
    private static String model;
    private static SealstreamClient client;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        Path gguf = TinyGguf.storiesOrWritten(dir, 11);
        logs = new LogCapture();
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme"))
                .maxBatchSize(8).batchLinger(Duration.ofMillis(30)).engine(Engines::defaultEmbeddings).chatModel(gguf);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        engine = (ChatEngine) stack.engines().get(1);
        model = engine.models().iterator().next();
        client = stack.client("acme");
    }

    @AfterAll
    static void stopStack() {
        if (client != null) {
            client.close();
        }
        if (logs != null) {
            logs.close();
        }
    }

    @Test
    void greedyDecodingGivesTheSameTextThroughThePipelineAsTheEngineDirectly() {
        ChatCompletion piped = client.chat().completions().createBlocking(
                ChatCompletionRequest.builder(model).user("Once upon a time").maxTokens(32).temperature(0).build());

        String direct = engine.complete(List.of(new ChatMessage(ChatRole.user, "Once upon a time")),
                new ChatParameters(32, 0f, null, List.of(), null, false)).getContent();
        assertThat(piped.content()).isEqualTo(direct).isNotEmpty();
        assertThat(piped.model()).isEqualTo(model);
    }

    @Test
    void maxTokensIsHonouredThroughThePipeline() {
        ChatCompletion c = client.chat().completions().createBlocking(
                ChatCompletionRequest.builder(model).user("Once upon a time").maxTokens(6).temperature(0).build());

        assertThat(c.completionTokens()).isEqualTo(6);
        assertThat(c.finishReason()).isEqualTo("length");
    }

    @Test
    void aStopSequenceIsHonouredThroughThePipeline() {
        String full = client.chat().completions().createBlocking(ChatCompletionRequest.builder(model)
                .user("Once upon a time").maxTokens(24).temperature(0).build()).content();
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);

        ChatCompletion c = client.chat().completions().createBlocking(ChatCompletionRequest.builder(model)
                .user("Once upon a time").maxTokens(24).temperature(0).stop(stop).build());

        assertThat(c.content()).isEqualTo(full.substring(0, full.indexOf(stop)));
        assertThat(c.finishReason()).isEqualTo("stop");
    }

    @Test
    void concurrentRequestsAreEachAnsweredOnceInTheirOwnRight() throws Exception {
        List<CompletableFuture<ChatCompletion>> futures = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            futures.add(client.chat().completions().create(ChatCompletionRequest.builder(model)
                    .user(i % 2 == 0 ? "Once upon a time " + CANARY : "The little dog").maxTokens(12).temperature(0)
                    .build()));
        }
        List<String> texts = new ArrayList<>();
        for (CompletableFuture<ChatCompletion> f : futures) {
            texts.add(f.get().content());
        }

        assertThat(texts.get(0)).isEqualTo(texts.get(2)).isEqualTo(texts.get(6));
        assertThat(texts.get(1)).isEqualTo(texts.get(3));
        assertThat(futures.stream().map(CompletableFuture::join).map(ChatCompletion::requestId).distinct()).hasSize(8);
    }

    @Test
    void aRequestForAModelNotServedIsRejectedNamingTheServedModels() {
        RequestRejectedException e = catchThrowableOfType(RequestRejectedException.class, () -> client.chat()
                .completions().createBlocking(ChatCompletionRequest.builder("gpt-4o").user("hello").build()));

        assertThat(e.code()).isEqualTo("model_not_served");
        assertThat(e.getMessage()).contains(model).contains("all-minilm-l6-v2-q");
    }

    @Test
    void thePolicyTheClientVerifiedListsTheChatModelsDigest() {
        assertThat(client.verifyKeyBroker().policy().allowedModelDigests())
                .contains(java.util.HexFormat.of().formatHex(engine.modelDigest()));
    }

    @Test
    void aWorkerThatLoadedAnotherChatModelGetsNoKeys() throws Exception {
        ChatEngine other = ChatEngine.load(ChatModel.of(TinyGguf.write(dir.resolve("other.gguf"), 99)));

        WorkerRefusedException e = catchThrowableOfType(WorkerRefusedException.class,
                () -> stack.startWorker("worker-other-model", LocalStack.WORKER_MEASUREMENT,
                        List.of(new SharedEngine(stack.engine()), other)));

        assertThat(e).hasMessageContaining("model_not_allowed");
        other.close();
    }

    @Test
    void aStreamedCompletionSendsItsTextAsChunksThroughKafkaThatTogetherAreTheAnswer() throws Exception {
        List<String> pieces = new java.util.concurrent.CopyOnWriteArrayList<>();

        ChatCompletion c = client.chat().completions().stream(ChatCompletionRequest.builder(model)
                .user("Once upon a time").maxTokens(48).temperature(0).build(), pieces::add)
                .get(60, java.util.concurrent.TimeUnit.SECONDS);

        assertThat(String.join("", pieces)).isEqualTo(c.content()).isNotEmpty();
        long chunks = CommittedRecords.readAll(stack, "sealstream.streams.acme").stream()
                .filter(r -> c.requestId().equals(r.key())).count();
        assertThat(chunks).as("sealed chunks of this answer on the client's stream topic").isPositive();
        assertThat(c.provenance()).isPresent();
    }

    @Test
    void aClientWithoutAStreamTopicGetsItsStreamedCompletionWhole() throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                stack.adminClientConfig())) {
            stack.client("oldtimer").close();
            admin.deleteTopics(List.of("sealstream.streams.oldtimer")).all().get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        try (SealstreamClient old = stack.client("oldtimer")) {
            List<String> pieces = new java.util.concurrent.CopyOnWriteArrayList<>();

            ChatCompletion c = old.chat().completions().stream(ChatCompletionRequest.builder(model)
                    .user("The little dog").maxTokens(12).temperature(0).build(), pieces::add)
                    .get(60, java.util.concurrent.TimeUnit.SECONDS);

            assertThat(pieces).containsExactly(c.content());
        }
    }

    @Test
    void thePromptCanaryReachesNoTopicDiskOrLog() throws Exception {
        client.chat().completions().createBlocking(ChatCompletionRequest.builder(model)
                .user("Once upon a time " + CANARY).maxTokens(8).temperature(0).build());

        client.chat().completions().stream(ChatCompletionRequest.builder(model)
                .user("Once upon a time " + CANARY).maxTokens(8).temperature(0).build(), text -> { })
                .get(60, java.util.concurrent.TimeUnit.SECONDS);

        CanaryScan scan = new CanaryScan(CANARY).topics(stack.kafka()).files(stack.dataDir())
                .text("captured log output", logs.text());

        assertThat(scan.findings()).isEmpty();
    }
}
