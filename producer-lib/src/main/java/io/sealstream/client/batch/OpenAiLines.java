package io.sealstream.client.batch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.client.openai.OpenAiBodies;
import io.sealstream.schemas.v1.InferenceResponse;

/**
 * Output and error lines in OpenAI's Batch output format:
 * {@code {id, custom_id, response: {status_code, request_id, body}, error}}, with the bodies of
 * {@code /v1/embeddings} and {@code /v1/chat/completions}.
 */
final class OpenAiLines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OpenAiLines() {
    }

    /** An answered line; which attested worker answered goes beside OpenAI's fields of the line. */
    static String answered(String customId, String requestId, io.sealstream.client.Answer answer) {
        ObjectNode n = line(customId, requestId, 200, OpenAiBodies.answer(requestId, answer.body()));
        answer.provenance().ifPresent(p -> OpenAiBodies.provenance(n, p));
        return n.toString();
    }

    static String answered(String customId, String requestId, InferenceResponse r) {
        return line(customId, requestId, 200, OpenAiBodies.answer(requestId, r)).toString();
    }

    static String rejected(String customId, RequestRejectedException e) {
        return line(customId, e.requestId(), OpenAiBodies.statusOf(e.code()), OpenAiBodies.rejected(e)).toString();
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
}
