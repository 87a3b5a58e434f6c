package io.sealstream.client.batch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceResponse;
import java.time.Instant;

/**
 * Output and error lines in OpenAI's Batch output format:
 * {@code {id, custom_id, response: {status_code, request_id, body}, error}}, with the bodies of
 * {@code /v1/embeddings} and {@code /v1/chat/completions}.
 */
final class OpenAiLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiLines() {
    }

    /** The extra field beside OpenAI's in each answered line: which attested worker answered. */
    static final String PROVENANCE = "sealstream_provenance";

    static String answered(String customId, String requestId, io.sealstream.client.Answer answer) {
        ObjectNode n = answeredLine(customId, requestId, answer.body());
        answer.provenance().ifPresent(p -> n.putObject(PROVENANCE).put("lease_id", p.leaseId())
                .put("lease_log_index", p.leaseLogIndex()).put("tee", p.tee()).put("measurement", p.measurement())
                .put("model_digest", p.modelDigest()).put("in_log", p.inLog()));
        return n.toString();
    }

    static String answered(String customId, String requestId, InferenceResponse r) {
        return answeredLine(customId, requestId, r).toString();
    }

    private static ObjectNode answeredLine(String customId, String requestId, InferenceResponse r) {
        ObjectNode body = JSON.createObjectNode();
        if (r.getOutput() instanceof EmbeddingsResult e) {
            body.put("object", "list");
            ArrayNode data = body.putArray("data");
            for (Embedding x : e.getData()) {
                ObjectNode item = data.addObject().put("object", "embedding").put("index", x.getIndex());
                ArrayNode v = item.putArray("embedding");
                x.getVector().forEach(v::add);
            }
            body.put("model", r.getModel());
            body.putObject("usage").put("prompt_tokens", e.getUsage().getPromptTokens())
                    .put("total_tokens", e.getUsage().getTotalTokens());
        } else if (r.getOutput() instanceof ChatResult c) {
            body.put("id", "chatcmpl-" + requestId).put("object", "chat.completion")
                    .put("created", Instant.now().getEpochSecond()).put("model", r.getModel());
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", c.getContent());
            choice.put("finish_reason", c.getFinishReason().name());
            body.putObject("usage").put("prompt_tokens", c.getUsage().getPromptTokens())
                    .put("completion_tokens", c.getUsage().getCompletionTokens())
                    .put("total_tokens", c.getUsage().getTotalTokens());
        }
        return line(customId, requestId, 200, body);
    }

    private static String lineText(String customId, String requestId, int status, ObjectNode body) {
        return line(customId, requestId, status, body).toString();
    }

    static String rejected(String customId, RequestRejectedException e) {
        ObjectNode body = JSON.createObjectNode();
        body.putObject("error").put("message", e.detail()).put("type", "invalid_request_error").put("code", e.code());
        return lineText(customId, e.requestId(), statusOf(e.code()), body);
    }

    static String failed(String customId, String requestId, String code, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", requestId == null ? null : "batch_req_" + requestId);
        n.put("custom_id", customId);
        n.putNull("response");
        n.putObject("error").put("code", code).put("message", message);
        return n.toString();
    }

    /** An input line that could not be sent; without a custom_id, its line number identifies it. */
    static String invalid(InvalidLine bad) {
        ObjectNode n = JSON.createObjectNode();
        n.putNull("id");
        n.put("custom_id", bad.customId());
        n.putNull("response");
        n.putObject("error").put("code", "invalid_line").put("message", "line " + bad.lineNumber() + ": " + bad.reason())
                .put("line", bad.lineNumber());
        return n.toString();
    }

    private static ObjectNode line(String customId, String requestId, int status, ObjectNode body) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", "batch_req_" + requestId);
        n.put("custom_id", customId);
        n.putObject("response").put("status_code", status).put("request_id", requestId).set("body", body);
        n.putNull("error");
        return n;
    }

    /** HTTP-style status for a worker's error code. */
    static int statusOf(String code) {
        return ErrorCode.of(code).map(ErrorCode::httpStatus).orElseGet(() -> switch (code) {
            // the client's own codes, for answers it could not use
            case "undecodable_response", "unexpected_output" -> 400;
            default -> 500;
        });
    }
}
