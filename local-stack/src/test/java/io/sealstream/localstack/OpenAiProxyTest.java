package io.sealstream.localstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.client.BrokerTrust;
import io.sealstream.client.ChatCompletion;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.client.EmbeddingResult;
import io.sealstream.client.PolicyMismatchException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.proxy.OpenAiProxy;
import io.sealstream.worker.engine.ChatEngine;
import io.sealstream.worker.engine.TinyGguf;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAI-compatible proxy against a real stack: what an application sees through its base URL
 * is what the SDK gets, every failure comes in OpenAI's error shape with a code, and the proxy
 * stays local: no web page, rebound host name or caller without the token gets through.
 */
@WithLocalStack
class OpenAiProxyTest {
    private static final String CANARY = "CANARY-proxy-7c1e02-private-words";
    private static final String TOKEN = "proxy-test-token-0123456789";
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path dir;
    private static LogCapture logs;
    private static LocalStack stack;
    private static String chatModel;
    private static String embeddingModel;
    private static SealstreamClient client;
    private static OpenAiProxy proxy;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @StackOptions
    static LocalStack.Options stackOptions() throws Exception {
        Path gguf = TinyGguf.storiesOrWritten(dir, 11);
        logs = new LogCapture();
        return new LocalStack.Options().workers(1).partitions(2).clients(List.of("acme"))
                .maxBatchSize(8).batchLinger(Duration.ofMillis(20)).engine(Engines::defaultEmbeddings).chatModel(gguf);
    }

    @BeforeAll
    static void startProxy(LocalStack started) throws Exception {
        stack = started;
        embeddingModel = stack.engines().get(0).models().iterator().next();
        chatModel = ((ChatEngine) stack.engines().get(1)).models().iterator().next();
        client = stack.client("acme");
        proxy = OpenAiProxy.builder(client).port(0).bearerToken(TOKEN).stateDirectory(dir.resolve("proxy-state")).build();
        proxy.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (client != null) {
            client.close();
        }
        if (logs != null) {
            logs.close();
        }
    }

    @Test
    void embeddingsThroughTheProxyAreTheSdksVectorsInOpenAisShape() throws Exception {
        HttpResponse<String> r = post("/embeddings", "{\"model\":\"" + embeddingModel
                + "\",\"input\":[\"the quiet harbour\"]}");
        EmbeddingResult direct = client.embeddings().createBlocking(embeddingModel, List.of("the quiet harbour"));

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("object").asText()).isEqualTo("list");
        JsonNode vector = body.path("data").get(0).path("embedding");
        assertThat(vector.size()).isEqualTo(direct.embeddings().get(0).length);
        for (int i = 0; i < vector.size(); i++) {
            assertThat(vector.get(i).floatValue()).isCloseTo(direct.embeddings().get(0)[i], within(1e-4f));
        }
        assertThat(body.path("usage").path("prompt_tokens").asInt()).isEqualTo(direct.promptTokens());
        assertThat(body.path("sealstream_provenance").path("in_log").asBoolean()).isTrue();
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
    }

    @Test
    void base64EmbeddingsAreTheLittleEndianFloatsOfTheSameVector() throws Exception {
        String body = "{\"model\":\"" + embeddingModel + "\",\"input\":\"the quiet harbour\"";
        JsonNode floats = JSON.readTree(post("/embeddings", body + "}").body()).path("data").get(0).path("embedding");
        JsonNode encoded = JSON.readTree(post("/embeddings", body + ",\"encoding_format\":\"base64\"}").body())
                .path("data").get(0).path("embedding");

        java.nio.ByteBuffer le = java.nio.ByteBuffer.wrap(java.util.Base64.getDecoder().decode(encoded.asText()))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertThat(le.remaining()).isEqualTo(4 * floats.size());
        for (int i = 0; i < floats.size(); i++) {
            assertThat(le.getFloat()).isCloseTo(floats.get(i).floatValue(), within(1e-4f));
        }
    }

    @Test
    void aChatCompletionThroughTheProxyIsTheSdksCompletion() throws Exception {
        HttpResponse<String> r = post("/chat/completions", chatBody("Once upon a time", false));
        ChatCompletion direct = client.chat().completions().createBlocking(ChatCompletionRequest.builder(chatModel)
                .user("Once upon a time").maxTokens(16).temperature(0).build());

        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.path("object").asText()).isEqualTo("chat.completion");
        JsonNode choice = body.path("choices").get(0);
        assertThat(choice.path("message").path("content").asText()).isEqualTo(direct.content()).isNotEmpty();
        assertThat(choice.path("finish_reason").asText()).isEqualTo(direct.finishReason());
        assertThat(body.path("usage").path("completion_tokens").asInt()).isEqualTo(direct.completionTokens());
    }

    @Test
    void aStreamedCompletionArrivesAsOpenAiChunksEndingInDone() throws Exception {
        HttpResponse<String> r = post("/chat/completions", chatBody("Once upon a time", true)
                .replace("\"stream\":true", "\"stream\":true,\"stream_options\":{\"include_usage\":true}"));
        HttpResponse<String> whole = post("/chat/completions", chatBody("Once upon a time", false));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/event-stream");
        List<JsonNode> chunks = new ArrayList<>();
        String[] events = r.body().split("\n\n");
        assertThat(events[events.length - 1]).isEqualTo("data: [DONE]");
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < events.length - 1; i++) {
            assertThat(events[i]).startsWith("data: ");
            JsonNode chunk = JSON.readTree(events[i].substring(6));
            assertThat(chunk.path("object").asText()).isEqualTo("chat.completion.chunk");
            chunks.add(chunk);
            if (chunk.path("choices").size() > 0) {
                text.append(chunk.path("choices").get(0).path("delta").path("content").asText(""));
            }
        }
        assertThat(chunks.get(0).path("choices").get(0).path("delta").path("role").asText()).isEqualTo("assistant");
        assertThat(text.toString()).isEqualTo(JSON.readTree(whole.body()).path("choices").get(0).path("message")
                .path("content").asText());
        assertThat(chunks.get(chunks.size() - 2).path("choices").get(0).path("finish_reason").asText())
                .isIn("stop", "length");
        assertThat(chunks.get(chunks.size() - 1).path("usage").path("total_tokens").asInt()).isPositive();
    }

    @Test
    void aModelNoWorkerServesIsANotFoundWithCodeModelNotFound() throws Exception {
        HttpResponse<String> r = post("/embeddings", "{\"model\":\"gpt-9\",\"input\":\"hello\"}");

        assertThat(r.statusCode()).isEqualTo(404);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("code").asText()).isEqualTo("model_not_found");
        assertThat(error.path("type").asText()).isEqualTo("invalid_request_error");
        assertThat(error.path("message").asText()).isNotBlank();
    }

    @Test
    void anInvalidFieldIsRefusedBeforeSendingAndNamedInParam() throws Exception {
        HttpResponse<String> r = post("/chat/completions", "{\"model\":\"" + chatModel
                + "\",\"messages\":[{\"role\":\"wizard\",\"content\":\"" + CANARY + "\"}]}");

        assertThat(r.statusCode()).isEqualTo(400);
        JsonNode error = JSON.readTree(r.body()).path("error");
        assertThat(error.path("param").asText()).isEqualTo("messages[0].role");
        assertThat(error.path("code").asText()).isEqualTo("invalid_request");
        assertThat(r.body()).doesNotContain(CANARY);
    }

    @Test
    void aBodyThatIsNotJsonIsABadRequest() throws Exception {
        HttpResponse<String> r = post("/embeddings", "{\"model\": \"" + CANARY);

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("invalid_json");
        assertThat(r.body()).doesNotContain(CANARY);
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413BeforeItIsRead() throws Exception {
        String head = "POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + TOKEN
                + "\r\nContent-Type: application/json\r\nContent-Length: " + (9 << 20) + "\r\n\r\n";

        String answer = raw(head);

        assertThat(answer).startsWith("HTTP/1.1 413").contains("request_too_large");
    }

    @Test
    void aRequestWithoutTheTokenIsUnauthorized() throws Exception {
        HttpResponse<String> none = HTTP.send(HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/models")).GET()
                .build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> wrong = HTTP.send(HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/models"))
                .header("Authorization", "Bearer not-the-token-at-all").GET().build(), HttpResponse.BodyHandlers.ofString());

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(JSON.readTree(wrong.body()).path("error").path("code").asText()).isEqualTo("invalid_api_key");
    }

    @Test
    void aRequestFromAWebPageIsRefused() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(proxy.baseUrl() + "/models"))
                .header("Authorization", "Bearer " + TOKEN).header("Origin", "https://pages.example").GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("foreign_origin");
    }

    @Test
    void aRequestForAReboundHostNameIsRefused() throws Exception {
        String answer = raw("GET /v1/models HTTP/1.1\r\nHost: rebound.example:" + proxy.address().getPort()
                + "\r\nAuthorization: Bearer " + TOKEN + "\r\nConnection: close\r\n\r\n");

        assertThat(answer).startsWith("HTTP/1.1 403").contains("foreign_origin");
    }

    /** Sends {@code head} as it is and reads the answer until the proxy closes or 5 s pass. */
    private static String raw(String head) throws Exception {
        try (Socket s = new Socket(proxy.address().getAddress(), proxy.address().getPort())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    got.write(buf, 0, n);
                    if (got.toString(StandardCharsets.UTF_8).contains("}}")) {
                        break; // the whole error body arrived
                    }
                }
            } catch (java.net.SocketTimeoutException e) {
                // what arrived is the answer
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void unknownPathsAndWrongMethodsGetOpenAiShapedErrors() throws Exception {
        HttpResponse<String> path = HTTP.send(authorized("/engines").GET().build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> method = HTTP.send(authorized("/embeddings").GET().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(path.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(path.body()).path("error").path("code").asText()).isEqualTo("unknown_url");
        assertThat(method.statusCode()).isEqualTo(405);
    }

    @Test
    void aRequestThatGetsNoAnswerInTimeIsAGatewayTimeout() throws Exception {
        try (OpenAiProxy impatient = OpenAiProxy.builder(client).port(0).requestTimeout(Duration.ofMillis(1)).build()) {
            impatient.start();
            // 512 texts: inference takes longer than the SDK's 100 ms timeout tick, so the answer is late
            String texts = JSON.writeValueAsString(java.util.Collections.nCopies(512, "a late sentence"));
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(impatient.baseUrl() + "/embeddings"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"" + embeddingModel + "\",\"input\":" + texts + "}")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(504);
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("timeout");
            assertThat(r.headers().firstValue("x-should-retry")).hasValue("false");
        }
    }

    @Test
    void theModelsListNamesWhatTheAttestedWorkersLeasesInTheLogServeBeforeAnyAnswer() throws Exception {
        try (OpenAiProxy fresh = OpenAiProxy.builder(client).port(0).build()) {
            fresh.start();

            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(fresh.baseUrl() + "/models")).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());

            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode body = JSON.readTree(r.body());
            assertThat(body.path("object").asText()).isEqualTo("list");
            java.util.Map<String, JsonNode> byId = new java.util.HashMap<>();
            body.path("data").forEach(m -> byId.put(m.path("id").asText(), m));
            assertThat(byId).containsKeys(embeddingModel, chatModel);
            assertThat(byId.get(chatModel).path("sealstream_model_digests").get(0).asText())
                    .isEqualTo(java.util.HexFormat.of().formatHex(stack.engines().get(1).modelDigest()));
        }
    }

    @Test
    void aProxyWhoseKeyBrokerDoesNotVerifyRefusesToStartAndBindsNothing() throws Exception {
        BrokerTrust pinned = stack.trust();
        BrokerTrust wrong = new BrokerTrust(pinned.verifier(), java.util.Set.of(HexFormat.of().formatHex(new byte[48])),
                pinned.policyId(), true, pinned.log());
        try (SealstreamClient misled = stack.clientBuilder("acme").trust(wrong).build();
             OpenAiProxy refused = OpenAiProxy.builder(misled).port(0).build()) {

            Throwable t = catchThrowable(refused::start);

            assertThat(t).isInstanceOf(PolicyMismatchException.class);
            assertThat(refused.isServing()).isFalse();
            assertThat(catchThrowable(refused::address)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void neitherPromptsNorAnswersReachTheAccessLogTopicsOrDisks() throws Exception {
        HttpResponse<String> r = post("/chat/completions", chatBody("Once upon a time " + CANARY, false));
        assertThat(r.statusCode()).isEqualTo(200);

        CanaryScan scan = new CanaryScan(CANARY).topics(stack.kafka()).files(stack.dataDir())
                .text("captured log output", logs.text());

        assertThat(scan.findings()).isEmpty();
        assertThat(logs.text()).contains("proxy.request method=POST route=/v1/chat/completions status=200");
    }

    @Test
    void theOfficialOpenAiNodeLibraryGetsTheSdksAnswersThroughTheProxy() throws Exception {
        OpenAiNodeClient.install();
        String text = "a lighthouse keeper's ledger";
        EmbeddingResult direct = client.embeddings().createBlocking(embeddingModel, List.of(text));
        ChatCompletion chat = client.chat().completions().createBlocking(ChatCompletionRequest.builder(chatModel)
                .user("Once upon a time").maxTokens(16).temperature(0).build());

        JsonNode got = JSON.readTree(OpenAiNodeClient.runScript("openai-through-proxy.mjs", java.util.Map.of(
                "PROXY_BASE_URL", proxy.baseUrl(), "PROXY_TOKEN", TOKEN, "EMBEDDING_MODEL", embeddingModel,
                "CHAT_MODEL", chatModel, "EMBEDDING_TEXT", text, "CHAT_PROMPT", "Once upon a time")));

        assertThat(got.path("models").toString()).contains(embeddingModel);
        JsonNode vector = got.path("embedding");
        assertThat(vector.size()).isEqualTo(direct.embeddings().get(0).length);
        for (int i = 0; i < vector.size(); i++) {
            assertThat(vector.get(i).floatValue()).isCloseTo(direct.embeddings().get(0)[i], within(1e-4f));
        }
        assertThat(got.path("chat").asText()).isEqualTo(chat.content());
        assertThat(got.path("streamed").asText()).isEqualTo(chat.content());
        assertThat(got.path("streamChunks").asInt()).isGreaterThanOrEqualTo(2);
        assertThat(got.path("unknownModel").path("status").asInt()).isEqualTo(404);
        assertThat(got.path("unknownModel").path("code").asText()).isEqualTo("model_not_found");
        assertThat(got.path("unknownModel").path("isNotFound").asBoolean()).isTrue();
        assertThat(got.path("wrongKey").path("isAuthentication").asBoolean()).isTrue();
        assertThat(got.path("batchStatus").asText()).isEqualTo("completed");
        assertThat(got.path("batchOutput")).hasSize(2);
        for (JsonNode line : got.path("batchOutput")) {
            assertThat(line.path("status").asInt()).isEqualTo(200);
            JsonNode v = line.path("embedding");
            for (int i = 0; i < v.size(); i++) {
                assertThat(v.get(i).floatValue()).isCloseTo(direct.embeddings().get(0)[i], within(1e-3f));
            }
        }
    }

    @Test
    void theCurlExamplesInTheDocsRunVerbatimAgainstTheProxy() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("curl", "--version").start().waitFor() == 0,
                "curl is not installed: install it (Debian: apt-get install curl) to run docs/proxy.md's examples");
        String doc = java.nio.file.Files.readString(Path.of("..", "docs", "proxy.md"));
        String section = doc.substring(doc.indexOf("## From curl"), doc.indexOf("## From an OpenAI library"));
        java.util.regex.Matcher blocks = java.util.regex.Pattern.compile("```bash\\n(.*?)```", java.util.regex.Pattern.DOTALL)
                .matcher(section);
        List<String> outputs = new ArrayList<>();
        while (blocks.find()) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", blocks.group(1)).redirectErrorStream(true);
            pb.environment().putAll(java.util.Map.of("PROXY", proxy.baseUrl(), "SEALSTREAM_PROXY_TOKEN", TOKEN,
                    "EMBEDDING_MODEL", embeddingModel, "CHAT_MODEL", chatModel));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(blocks.group(1) + "\n" + out).isZero();
            outputs.add(out);
        }

        assertThat(outputs).hasSize(4);
        assertThat(JSON.readTree(outputs.get(0)).path("object").asText()).isEqualTo("list");
        assertThat(JSON.readTree(outputs.get(1)).path("data").get(0).path("embedding").size()).isPositive();
        assertThat(JSON.readTree(outputs.get(2)).path("choices").get(0).path("message").path("content").asText())
                .isNotEmpty();
        assertThat(outputs.get(3)).contains("chat.completion.chunk").endsWith("data: [DONE]\n\n");
    }

    @Test
    void aBatchOfAnUploadedFileCompletesAndItsOutputHoldsEveryLineInOpenAisFormat() throws Exception {
        String input = batchLine("a", "first harbour") + "\n" + batchLine("b", "second harbour") + "\n"
                + batchLine("c", "third harbour") + "\n";
        String fileId = JSON.readTree(upload(input, "batch").body()).path("id").asText();

        HttpResponse<String> created = post("/batches", "{\"input_file_id\":\"" + fileId
                + "\",\"endpoint\":\"/v1/embeddings\",\"completion_window\":\"24h\",\"metadata\":{\"run\":\"t1\"}}");
        String batchId = JSON.readTree(created.body()).path("id").asText();
        JsonNode done = awaitBatch(batchId);

        assertThat(created.statusCode()).isEqualTo(200);
        assertThat(done.path("status").asText()).isEqualTo("completed");
        assertThat(done.path("request_counts").path("completed").asInt()).isEqualTo(3);
        assertThat(done.path("metadata").path("run").asText()).isEqualTo("t1");
        String output = get("/files/" + done.path("output_file_id").asText() + "/content").body();
        List<String> ids = new ArrayList<>();
        for (String line : output.split("\n")) {
            JsonNode n = JSON.readTree(line);
            ids.add(n.path("custom_id").asText());
            assertThat(n.path("response").path("status_code").asInt()).isEqualTo(200);
            assertThat(n.path("response").path("body").path("data").get(0).path("embedding").size()).isPositive();
        }
        assertThat(ids).containsExactlyInAnyOrder("a", "b", "c");
    }

    @Test
    void aBatchInterruptedByAStopResumesAtTheNextStartAndAnswersEachLineOnce() throws Exception {
        Path state = dir.resolve("resumed-state");
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            input.append(batchLine("line-" + i, "text number " + i)).append('\n');
        }
        String batchId;
        try (OpenAiProxy first = OpenAiProxy.builder(client).port(0).bearerToken(TOKEN).stateDirectory(state).build()) {
            first.start();
            String fileId = JSON.readTree(upload(first, input.toString()).body()).path("id").asText();
            batchId = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(first.baseUrl() + "/batches"))
                    .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.ofString(
                            "{\"input_file_id\":\"" + fileId + "\",\"endpoint\":\"/v1/embeddings\","
                                    + "\"completion_window\":\"24h\"}")).build(), HttpResponse.BodyHandlers.ofString())
                    .body()).path("id").asText();
            first.stop(); // while the batch runs, or before it starts
        }
        try (OpenAiProxy second = OpenAiProxy.builder(client).port(0).bearerToken(TOKEN).stateDirectory(state).build()) {
            second.start();
            JsonNode[] last = new JsonNode[1];
            Eventually.holds(Duration.ofSeconds(90), () -> {
                try {
                    last[0] = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(second.baseUrl() + "/batches/"
                            + batchId)).header("Authorization", "Bearer " + TOKEN).GET().build(),
                            HttpResponse.BodyHandlers.ofString()).body());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                return "completed".equals(last[0].path("status").asText());
            });
            String output = HTTP.send(HttpRequest.newBuilder(URI.create(second.baseUrl() + "/files/"
                    + last[0].path("output_file_id").asText() + "/content")).header("Authorization", "Bearer " + TOKEN)
                    .GET().build(), HttpResponse.BodyHandlers.ofString()).body();

            assertThat(last[0].path("status").asText()).isEqualTo("completed");
            List<String> ids = new ArrayList<>();
            for (String line : output.split("\n")) {
                ids.add(JSON.readTree(line).path("custom_id").asText());
            }
            assertThat(ids).hasSize(40).doesNotHaveDuplicates();
        }
    }

    @Test
    void aBatchWithAnInvalidLineFailsNamingTheLineAndSendsNothing() throws Exception {
        String input = batchLine("a", "fine") + "\n{\"custom_id\":\"b\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
                + "\"body\":{\"model\":\"" + embeddingModel + "\",\"input\":[],\"x\":1}}\n";
        String fileId = JSON.readTree(upload(input, "batch").body()).path("id").asText();

        String batchId = JSON.readTree(post("/batches", "{\"input_file_id\":\"" + fileId
                + "\",\"endpoint\":\"/v1/embeddings\",\"completion_window\":\"24h\"}").body()).path("id").asText();
        JsonNode done = awaitBatch(batchId);

        assertThat(done.path("status").asText()).isEqualTo("failed");
        JsonNode error = done.path("errors").path("data").get(0);
        assertThat(error.path("code").asText()).isEqualTo("invalid_line");
        assertThat(error.path("line").asInt()).isEqualTo(2);
        assertThat(done.path("request_counts").path("completed").asInt()).isZero();
    }

    @Test
    void anUploadForAnotherPurposeIsRefusedAndNamesTheField() throws Exception {
        HttpResponse<String> r = upload(batchLine("a", "x") + "\n", "fine-tune");

        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).path("error").path("param").asText()).isEqualTo("purpose");
    }

    @Test
    void anUploadThatIsNotMultipartOrHasNoFileIsRefusedAndStoresNothing() throws Exception {
        Path files = dir.resolve("proxy-state").resolve("files");
        long before;
        try (var listed = java.nio.file.Files.list(files)) {
            before = listed.count();
        }

        HttpResponse<String> json = HTTP.send(authorized("/files").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"purpose\":\"batch\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        String boundary = "sealstream-test-boundary-no-file";
        HttpResponse<String> noFile = HTTP.send(authorized("/files")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; "
                        + "name=\"purpose\"\r\n\r\nbatch\r\n--" + boundary + "--\r\n")).build(),
                HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> truncated = HTTP.send(authorized("/files")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString("--" + boundary + "\r\nContent-Disposition: form-data; "
                        + "name=\"file\"; filename=\"x.jsonl\"\r\n\r\n" + CANARY)).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(json.statusCode()).isEqualTo(400);
        assertThat(noFile.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(noFile.body()).path("error").path("param").asText()).isEqualTo("file");
        assertThat(truncated.statusCode()).isEqualTo(400);
        assertThat(JSON.readTree(truncated.body()).path("error").path("code").asText()).isEqualTo("invalid_upload");
        assertThat(truncated.body()).doesNotContain(CANARY);
        try (var listed = java.nio.file.Files.list(files)) {
            assertThat(listed.count()).isEqualTo(before);
        }
    }

    @Test
    void uploadedFilesAreOwnerOnlyAndADeletedFileIsGone() throws Exception {
        String fileId = JSON.readTree(upload(batchLine("a", CANARY) + "\n", "batch").body()).path("id").asText();
        Path stored = dir.resolve("proxy-state").resolve("files").resolve(fileId);
        assertThat(java.nio.file.Files.getPosixFilePermissions(stored))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

        HttpResponse<String> deleted = HTTP.send(authorized("/files/" + fileId).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(JSON.readTree(deleted.body()).path("deleted").asBoolean()).isTrue();
        assertThat(java.nio.file.Files.exists(stored)).isFalse();
        assertThat(get("/files/" + fileId + "/content").statusCode()).isEqualTo(404);
    }

    @Test
    void aFileIdThatIsNotOneNeverBecomesAPath() throws Exception {
        HttpResponse<String> encoded = get("/files/..%2F..%2Fbatches/content");
        HttpResponse<String> named = get("/files/proxy.token/content");
        HttpResponse<String> unknown = get("/files/file-000000000000000000000000/content");

        assertThat(encoded.statusCode()).isEqualTo(400); // Jetty refuses an encoded separator before any route sees it
        assertThat(named.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(named.body()).path("error").path("code").asText()).isEqualTo("unknown_url");
        assertThat(JSON.readTree(unknown.body()).path("error").path("code").asText()).isEqualTo("file_not_found");
    }

    private static String batchLine(String customId, String text) throws Exception {
        return "{\"custom_id\":\"" + customId + "\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\""
                + embeddingModel + "\",\"input\":" + JSON.writeValueAsString(text) + "}}";
    }

    private static HttpResponse<String> upload(OpenAiProxy to, String content) throws Exception {
        return upload(to, content, "batch");
    }

    private static HttpResponse<String> upload(String content, String purpose) throws Exception {
        return upload(proxy, content, purpose);
    }

    private static HttpResponse<String> upload(OpenAiProxy to, String content, String purpose) throws Exception {
        String boundary = "sealstream-test-boundary-7f3a";
        String body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n" + purpose + "\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
                + "Content-Type: application/jsonl\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
        return HTTP.send(HttpRequest.newBuilder(URI.create(to.baseUrl() + "/files"))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode awaitBatch(String id) throws Exception {
        JsonNode[] last = new JsonNode[1];
        Eventually.holds(Duration.ofSeconds(90), () -> {
            try {
                last[0] = JSON.readTree(get("/batches/" + id).body());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return List.of("completed", "failed", "cancelled").contains(last[0].path("status").asText());
        });
        return last[0];
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(authorized(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chatBody(String prompt, boolean stream) throws Exception {
        return "{\"model\":\"" + chatModel + "\",\"messages\":[{\"role\":\"user\",\"content\":"
                + JSON.writeValueAsString(prompt) + "}],\"max_tokens\":16,\"temperature\":0,\"stream\":" + stream + "}";
    }

    private static HttpRequest.Builder authorized(String path) {
        return HttpRequest.newBuilder(URI.create(proxy.baseUrl() + path)).header("Authorization", "Bearer " + TOKEN);
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(authorized(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
