package io.sealstream.client.batch;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.EmbeddingsInput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading and checking OpenAI Batch input files, line by line. */
class BatchInputTest {
    private static final String EMB = "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
            + "\"body\":{\"model\":\"m\",\"input\":[\"a\",\"b\"]}}";
    private static final String CHAT = "{\"custom_id\":\"%s\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
            + "\"body\":{\"model\":\"c\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\","
            + "\"content\":\"u\"}],\"max_tokens\":7,\"temperature\":0.5,\"stop\":\"END\",\"seed\":3}}";
    @TempDir
    Path dir;

    @Test
    void validLinesOfBothEndpointsBecomeRequests() throws Exception {
        List<BatchLine> lines = valid(EMB.formatted("e1"), "", CHAT.formatted("c1"));

        assertThat(lines).extracting(BatchLine::customId).containsExactly("e1", "c1");
        assertThat(lines.get(0).lineNumber()).isEqualTo(1);
        assertThat(lines.get(1).lineNumber()).isEqualTo(3);
        assertThat(((EmbeddingsInput) lines.get(0).request().getTask()).getInput()).containsExactly("a", "b");
        ChatInput chat = (ChatInput) lines.get(1).request().getTask();
        assertThat(chat.getMessages()).hasSize(2);
        assertThat(chat.getParameters().getMaxTokens()).isEqualTo(7);
        assertThat(chat.getParameters().getStop()).containsExactly("END");
        assertThat(chat.getParameters().getSeed()).isEqualTo(3L);
    }

    @Test
    void eachKindOfBadLineIsReportedWithItsNumberAndNeverItsText() throws Exception {
        BatchInput.Validation v = validate(
                EMB.formatted("ok"),
                EMB.formatted("x").replace("/v1/embeddings", "/v1/images"),
                EMB.formatted("y").replace("\"POST\"", "\"GET\""),
                EMB.formatted("z").replace("\"input\"", "\"inputs\""),
                CHAT.formatted("w").replace("\"user\"", "\"tool\""),
                CHAT.formatted("v").replace("\"max_tokens\":7", "\"n\":2"),
                EMB.formatted("u".repeat(65)),
                "{\"custom_id\":\"t\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\",\"input\":[[1,2]]}}",
                "[1,2]",
                "{\"a\":" + "[".repeat(2000) + "]".repeat(2000) + "}");

        assertThat(v.valid()).isEqualTo(1);
        assertThat(v.invalid()).extracting(InvalidLine::lineNumber).containsExactly(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(v.invalid()).extracting(InvalidLine::reason).satisfiesExactly(
                r -> assertThat(r).contains("url"),
                r -> assertThat(r).contains("method"),
                r -> assertThat(r).contains("inputs"),
                r -> assertThat(r).contains("role"),
                r -> assertThat(r).contains("body.n"),
                r -> assertThat(r).contains("custom_id").contains("64"),
                r -> assertThat(r).contains("token arrays"),
                r -> assertThat(r).contains("JSON object"),
                r -> assertThat(r).contains("limit"));
    }

    @Test
    void chatValuesOutOfRangeAreRefusedByTheSdksOwnRulesNamingTheField() throws Exception {
        BatchInput.Validation v = validate(
                CHAT.formatted("t").replace("\"temperature\":0.5", "\"temperature\":3"),
                CHAT.formatted("m").replace("\"max_tokens\":7", "\"max_tokens\":0"),
                CHAT.formatted("s").replace("\"stop\":\"END\"", "\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"));

        assertThat(v.invalid()).extracting(InvalidLine::reason).satisfiesExactly(
                r -> assertThat(r).startsWith("body.temperature"),
                r -> assertThat(r).startsWith("body.max_tokens"),
                r -> assertThat(r).startsWith("body.stop"));
    }

    @Test
    void aCustomIdUsedByAnInvalidLineCannotBeReusedByALaterValidOne() throws Exception {
        Path file = write(EMB.formatted("a").replace("\"model\"", "\"modell\""), EMB.formatted("a"), EMB.formatted("b"));

        BatchInput.Validation v = BatchInput.of(file).validate();
        List<InvalidLine> invalid = new ArrayList<>();
        BatchInput.of(file).forEachInvalid(invalid::add);

        assertThat(v.valid()).isEqualTo(1);
        assertThat(invalid).extracting(InvalidLine::customId).containsExactly("a", null);
        assertThat(invalid.get(1).reason()).contains("used by an earlier line");
    }

    @Test
    void aLineThatIsNotUtf8IsInvalidAndTheRestStillRead() throws Exception {
        Path file = dir.resolve("bad-utf8.jsonl");
        byte[] bad = {'{', (byte) 0xC3, (byte) 0x28, '}', '\n'};
        Files.write(file, bad);
        Files.writeString(file, EMB.formatted("ok") + "\n", java.nio.file.StandardOpenOption.APPEND);

        BatchInput.Validation v = BatchInput.of(file).validate();

        assertThat(v.valid()).isEqualTo(1);
        assertThat(v.invalid()).singleElement().satisfies(i -> assertThat(i.reason()).contains("UTF-8"));
    }

    @Test
    void theDigestIdentifiesTheFilesBytes() throws Exception {
        String a = BatchInput.of(write(EMB.formatted("a"))).validate().sha256();
        String b = BatchInput.of(write(EMB.formatted("b"))).validate().sha256();

        assertThat(a).hasSize(64).isNotEqualTo(b);
    }

    private List<BatchLine> valid(String... lines) throws IOException {
        List<BatchLine> out = new ArrayList<>();
        BatchInput.of(write(lines)).forEachValid(() -> false, out::add);
        return out;
    }

    private BatchInput.Validation validate(String... lines) throws IOException {
        return BatchInput.of(write(lines)).validate();
    }

    private Path write(String... lines) throws IOException {
        Path file = Files.createTempFile(dir, "batch", ".jsonl");
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }
}
