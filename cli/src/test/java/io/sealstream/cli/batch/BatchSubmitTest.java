package io.sealstream.cli.batch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.cli.SealstreamCommand;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.batch.BatchJob;
import io.sealstream.client.batch.BatchJournal;
import io.sealstream.client.batch.BatchStatus;
import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import io.sealstream.localstack.StackOptions;
import io.sealstream.localstack.WithLocalStack;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.TinyGguf;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batch jobs through the real stack: a worker serving MiniLM embeddings and the GGUF chat model
 * (stories260K, or a written random-weight GGUF where ../shared is absent).
 */
@WithLocalStack
class BatchSubmitTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> OPENINGS = List.of("Once upon a time", "The little dog", "One day", "Tom had a ball");
    @TempDir
    static Path dir;
    private static LocalStack stack;
    private static ChatEngine chat;
    private static String chatModel;
    private static String embeddingsModel;
    private static SealstreamClient client;

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        Path gguf = TinyGguf.storiesOrWritten(dir, 5);
        return new LocalStack.Options().workers(2).partitions(4).clients(List.of("batch"))
                .maxBatchSize(32).batchLinger(Duration.ofMillis(20)).engine(Engines::defaultEmbeddings).chatModel(gguf);
    }

    @BeforeAll
    static void useStack(LocalStack started) throws Exception {
        stack = started;
        embeddingsModel = stack.engine().models().iterator().next();
        chat = (ChatEngine) stack.engines().get(1);
        chatModel = chat.models().iterator().next();
        client = stack.client("batch");
    }

    @AfterAll
    static void stopStack() {
        if (client != null) {
            client.close();
        }
    }

    @Test
    void aMixedBatchOfTwoThousandLinesIsAnsweredOncePerCustomId() throws Exception {
        Path input = write("mixed.jsonl", mixed(2000));
        Path output = dir.resolve("mixed-out.jsonl");

        BatchJob.Summary s = job(input, output).build().run((p, last) -> { });

        assertThat(s.status()).isEqualTo(BatchStatus.COMPLETED);
        Map<String, JsonNode> byId = byCustomId(output);
        assertThat(byId).hasSize(2000);
        assertThat(Files.size(errorsOf(output))).isZero();
        for (int i = 0; i < 2000; i++) {
            JsonNode body = byId.get("req-" + i).path("response").path("body");
            if (i % 2 == 0) {
                assertThat(body.path("data").get(0).path("embedding")).hasSize(384);
            } else {
                assertThat(body.path("object").asText()).isEqualTo("chat.completion");
            }
        }
        String expected = chat.complete(List.of(new ChatMessage(ChatRole.user, OPENINGS.get(1))),
                new ChatParameters(8, 0f, null, List.of(), null, false)).getContent();
        assertThat(byId.get("req-1").path("response").path("body").path("choices").get(0).path("message")
                .path("content").asText()).isEqualTo(expected);
        assertThat(byId.get("req-1").path("response").path("status_code").asInt()).isEqualTo(200);
    }

    @Test
    void verifyChecksTheBrokerAuditsTheLogAndCountsWhoAnsweredAnOutputFile() throws Exception {
        Path input = write("verify.jsonl", mixed(6));
        Path output = dir.resolve("verify-out.jsonl");
        job(input, output).build().run((p, last) -> { });
        Path connection = dir.resolve("batch.connection");
        stack.writeConnection("batch", connection);
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        java.io.PrintStream original = System.out;
        int exit;
        try {
            System.setOut(new java.io.PrintStream(printed, true, java.nio.charset.StandardCharsets.UTF_8));
            exit = new picocli.CommandLine(new io.sealstream.cli.SealstreamCommand()).execute("verify", "--connection",
                    connection.toString(), "--output", output.toString());
        } finally {
            System.setOut(original);
        }
        String report = printed.toString(java.nio.charset.StandardCharsets.UTF_8);

        assertThat(exit).as(report).isZero();
        assertThat(report).contains("measurement " + java.util.HexFormat.of().formatHex(
                io.sealstream.localstack.LocalStack.BROKER_MEASUREMENT));
        assertThat(report).contains("in the log  policy: entry").contains("audited").contains("<- pinned");
        assertThat(report).contains("6 lines answered").contains("lease not proven in the audited log 0")
                .contains("without provenance 0");
    }

    @Test
    void eachAnsweredLineSaysWhichAttestedWorkerAndModelAnsweredBesideTheOpenAiFields() throws Exception {
        Path input = write("provenance.jsonl", mixed(4));
        Path output = dir.resolve("provenance-out.jsonl");

        job(input, output).build().run((p, last) -> { });

        for (JsonNode line : byCustomId(output).values()) {
            JsonNode provenance = line.path("sealstream_provenance");
            assertThat(provenance.path("in_log").asBoolean()).as("the log proves the lease").isTrue();
            assertThat(provenance.path("measurement").asText()).isEqualTo(
                    java.util.HexFormat.of().formatHex(io.sealstream.localstack.LocalStack.WORKER_MEASUREMENT));
            assertThat(provenance.path("model_digest").asText()).matches("[0-9a-f]{64}");
            assertThat(provenance.path("lease_id").asText()).isNotEmpty();
        }
    }

    @Test
    void invalidLinesAreReportedWithTheirNumbersAndNothingIsSent() throws Exception {
        List<String> lines = new ArrayList<>(mixed(6));
        lines.set(1, lines.get(1).replace("/v1/chat/completions", "/v1/completions"));
        lines.set(3, lines.get(2)); // a repeated custom_id
        lines.add("{not json");
        Path input = write("invalid.jsonl", lines);
        Path output = dir.resolve("invalid-out.jsonl");
        long sentBefore = client.stats().sent();

        BatchJob.Summary s = job(input, output).build().run((p, last) -> { });

        assertThat(s.status()).isEqualTo(BatchStatus.FAILED);
        assertThat(s.validation().invalid()).extracting(i -> i.lineNumber()).containsExactly(2L, 4L, 7L);
        assertThat(s.validation().invalid().get(0).reason()).contains("url");
        assertThat(s.validation().invalid().get(1).reason()).contains("custom_id 'req-2'");
        assertThat(client.stats().sent()).isEqualTo(sentBefore);
        assertThat(output).doesNotExist();
    }

    @Test
    void skipInvalidSendsTheRestAndPutsTheInvalidLinesInTheErrorsFile() throws Exception {
        List<String> lines = new ArrayList<>(mixed(6));
        lines.set(1, lines.get(1).replace("\"model\"", "\"modell\""));
        Path input = write("skip.jsonl", lines);
        Path output = dir.resolve("skip-out.jsonl");

        BatchJob.Summary s = job(input, output).skipInvalid(true).build().run((p, last) -> { });

        assertThat(s.status()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(byCustomId(output)).hasSize(5).doesNotContainKey("req-1");
        Map<String, JsonNode> errors = byCustomId(errorsOf(output));
        assertThat(errors).containsOnlyKeys("req-1");
        assertThat(errors.get("req-1").path("error").path("message").asText()).contains("line 2").contains("modell");
    }

    @Test
    void aResumedJobWithSkippedInvalidLinesWritesEachLineOnceAcrossBothFiles() throws Exception {
        List<String> lines = new ArrayList<>(embeddings(40));
        lines.set(3, "{\"custom_id\": broken");
        lines.set(7, lines.get(7).replace("\"POST\"", "\"GET\""));
        lines.set(9, lines.get(8)); // the same custom_id as line 9
        Path input = write("resume-skip.jsonl", lines);
        Path output = dir.resolve("resume-skip-out.jsonl");
        Path journal = dir.resolve("journal-resume-skip");
        BatchJob.builder(client, input, output).journalRoot(journal).skipInvalid(true).build().run((p, last) -> { });
        // what a kill leaves: half the answers, one of the errors, and a half-written line
        List<String> answered = Files.readAllLines(output);
        Files.write(output, answered.subList(0, answered.size() / 2));
        Files.writeString(output, answered.get(answered.size() - 1).substring(0, 30), java.nio.file.StandardOpenOption.APPEND);
        Files.write(errorsOf(output), Files.readAllLines(errorsOf(output)).subList(0, 1));

        BatchJob.Summary s = BatchJob.builder(client, input, output).journalRoot(journal).skipInvalid(true).build()
                .run((p, last) -> { });

        assertThat(s.status()).isEqualTo(BatchStatus.COMPLETED);
        Map<String, JsonNode> out = byCustomId(output);
        List<JsonNode> errors = new ArrayList<>();
        for (String line : Files.readAllLines(errorsOf(output))) {
            errors.add(JSON.readTree(line));
        }
        assertThat(out).hasSize(37);
        assertThat(errors).hasSize(3).allSatisfy(e -> assertThat(e.path("error").path("code").asText())
                .isEqualTo("invalid_line"));
        assertThat(errors).extracting(e -> e.path("error").path("line").asLong()).containsExactlyInAnyOrder(4L, 8L, 10L);
        assertThat(errors).filteredOn(e -> e.path("custom_id").isTextual())
                .allSatisfy(e -> assertThat(out).doesNotContainKey(e.path("custom_id").asText()));
    }

    @Test
    void aCancelledJobStopsSendingIsMarkedCancelledAndResumes() throws Exception {
        Path input = write("cancel.jsonl", embeddings(600));
        Path output = dir.resolve("cancel-out.jsonl");
        Path journal = dir.resolve("journal-cancel");
        BatchJob first = BatchJob.builder(client, input, output).journalRoot(journal).maxInFlight(8)
                .progressInterval(Duration.ofMillis(50)).build();

        BatchJob.Summary cancelled = first.run((p, last) -> {
            if (p.answered() >= 50) {
                first.cancel();
            }
        });

        assertThat(cancelled.status()).isEqualTo(BatchStatus.CANCELLED);
        assertThat(cancelled.progress().sent()).isLessThan(600);
        assertThat(BatchJournal.of(journal, cancelled.jobId()).read().orElseThrow().lifecycle())
                .isEqualTo(BatchStatus.CANCELLED);

        BatchJob.Summary resumed = BatchJob.builder(client, input, output).journalRoot(journal).build().run((p, last) -> { });

        assertThat(resumed.status()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(byCustomId(output)).hasSize(600);
    }

    @Test
    void aJobKilledMidwayResumesAndEveryCustomIdIsWrittenOnce() throws Exception {
        Path input = write("resume.jsonl", embeddings(1500));
        Path output = dir.resolve("resume-out.jsonl");
        Path connection = dir.resolve("connection.properties");
        stack.writeConnection("batch", connection);
        Path journal = dir.resolve("journal-resume");
        Process p = new ProcessBuilder(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), SealstreamCommand.class.getName(), "submit",
                "--input", input.toString(), "--output", output.toString(), "--connection", connection.toString(),
                "--journal-dir", journal.toString(), "--max-in-flight", "16",
                "--progress", "lines").redirectErrorStream(true).redirectOutput(dir.resolve("submit-1.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (lineCount(output) < 200 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(p.isAlive()).as("the first run is still sending when it is killed").isTrue();
        p.destroyForcibly().waitFor();
        long beforeResume = lineCount(output);
        assertThat(beforeResume).isBetween(200L, 1499L);

        BatchJob.Summary s = BatchJob.builder(client, input, output).journalRoot(journal).maxInFlight(64).build()
                .run((pr, last) -> { });

        assertThat(s.status()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(s.progress().alreadyDone()).isGreaterThanOrEqualTo(beforeResume - 1);
        List<String> ids = new ArrayList<>();
        for (String line : Files.readAllLines(output)) {
            ids.add(JSON.readTree(line).path("custom_id").asText());
        }
        assertThat(ids).hasSize(1500).doesNotHaveDuplicates();
        BatchJournal.Entry entry = BatchJournal.of(journal, s.jobId()).read().orElseThrow();
        assertThat(entry.lifecycle()).isEqualTo(BatchStatus.COMPLETED);
        assertThat(entry.completed()).isEqualTo(1500);
        assertThat(Files.readString(BatchJournal.of(journal, s.jobId()).file())).doesNotContain("text number");
    }

    private static BatchJob.Builder job(Path input, Path output) {
        return BatchJob.builder(client, input, output).journalRoot(dir.resolve("journal")).maxInFlight(64)
                .progressInterval(Duration.ofMillis(200));
    }

    private static List<String> mixed(int n) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i % 2 == 0) {
                lines.add("{\"custom_id\":\"req-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\""
                        + embeddingsModel + "\",\"input\":\"text number " + i + " about the weather\"}}");
            } else {
                lines.add("{\"custom_id\":\"req-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\""
                        + chatModel + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + OPENINGS.get(i % OPENINGS.size())
                        + "\"}],\"max_tokens\":8,\"temperature\":0}}");
            }
        }
        return lines;
    }

    private static List<String> embeddings(int n) {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add("{\"custom_id\":\"e-" + i + "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\""
                    + embeddingsModel + "\",\"input\":[\"text number " + i + "\"]}}");
        }
        return lines;
    }

    private static Path write(String name, List<String> lines) throws IOException {
        return Files.write(dir.resolve(name), lines);
    }

    private static Path errorsOf(Path output) {
        String name = output.getFileName().toString();
        return output.resolveSibling(name.substring(0, name.length() - ".jsonl".length()) + ".errors.jsonl");
    }

    private static long lineCount(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0;
        }
        try (var lines = Files.lines(file)) {
            return lines.count();
        }
    }

    private static Map<String, JsonNode> byCustomId(Path file) throws IOException {
        Map<String, JsonNode> out = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            JsonNode n = JSON.readTree(line);
            assertThat(out.put(n.path("custom_id").asText(), n)).as("custom_id written once").isNull();
        }
        return out;
    }
}
