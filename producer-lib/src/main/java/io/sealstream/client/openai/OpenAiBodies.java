package io.sealstream.client.openai;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.AnswerProvenance;
import io.sealstream.client.RequestRejectedException;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceResponse;
import java.time.Instant;
import java.util.Optional;

/**
 * Writes answers in the shape of OpenAI's response bodies ({@code /v1/embeddings},
 * {@code /v1/chat/completions} and its stream chunks) and errors in OpenAI's error shape. One
 * writer for every front door: a batch file's output lines and the local proxy's responses.
 */
public final class OpenAiBodies {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The field beside OpenAI's that says which attested worker answered. */
    public static final String PROVENANCE = "sealstream_provenance";

    private OpenAiBodies() {
    }

    /** The body of an answered request: an embeddings list (vectors as numbers) or a chat completion. */
    public static ObjectNode answer(String requestId, InferenceResponse r) {
        return answer(requestId, r, false);
    }

    /**
     * The body of an answered request; with {@code base64}, each embedding is the base64 of its
     * float32 values in little-endian order, as OpenAI encodes {@code encoding_format: "base64"}.
     */
    public static ObjectNode answer(String requestId, InferenceResponse r, boolean base64) {
        ObjectNode body = JSON.createObjectNode();
        if (r.getOutput() instanceof EmbeddingsResult e) {
            body.put("object", "list");
            ArrayNode data = body.putArray("data");
            for (Embedding x : e.getData()) {
                ObjectNode item = data.addObject().put("object", "embedding").put("index", x.getIndex());
                if (base64) {
                    java.nio.ByteBuffer le = java.nio.ByteBuffer.allocate(4 * x.getVector().size())
                            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    x.getVector().forEach(le::putFloat);
                    item.put("embedding", java.util.Base64.getEncoder().encodeToString(le.array()));
                } else {
                    ArrayNode v = item.putArray("embedding");
                    x.getVector().forEach(v::add);
                }
            }
            body.put("model", r.getModel());
            body.putObject("usage").put("prompt_tokens", e.getUsage().getPromptTokens())
                    .put("total_tokens", e.getUsage().getTotalTokens());
        } else if (r.getOutput() instanceof ChatResult c) {
            body.put("id", chatId(requestId)).put("object", "chat.completion")
                    .put("created", Instant.now().getEpochSecond()).put("model", r.getModel());
            ObjectNode choice = body.putArray("choices").addObject().put("index", 0);
            choice.putObject("message").put("role", "assistant").put("content", c.getContent()).putNull("refusal");
            choice.putNull("logprobs");
            choice.put("finish_reason", c.getFinishReason().name());
            usage(body, c);
        }
        return body;
    }

    /** The answer's body with its {@link #PROVENANCE} beside OpenAI's fields, when the answer has one. */
    public static ObjectNode answer(String requestId, InferenceResponse r, Optional<AnswerProvenance> provenance) {
        return answer(requestId, r, provenance, false);
    }

    /** As {@link #answer(String, InferenceResponse, Optional)}, embeddings in base64 when asked. */
    public static ObjectNode answer(String requestId, InferenceResponse r, Optional<AnswerProvenance> provenance,
                                    boolean base64) {
        ObjectNode body = answer(requestId, r, base64);
        provenance.ifPresent(p -> provenance(body, p));
        return body;
    }

    /** Puts {@code p} under {@link #PROVENANCE}. */
    public static ObjectNode provenance(ObjectNode into, AnswerProvenance p) {
        into.putObject(PROVENANCE).put("lease_id", p.leaseId()).put("lease_log_index", p.leaseLogIndex())
                .put("tee", p.tee()).put("measurement", p.measurement()).put("model_digest", p.modelDigest())
                .put("in_log", p.inLog());
        return into;
    }

    /**
     * One {@code chat.completion.chunk} of a streamed completion: {@code delta} holds the role on
     * the first chunk, then content; the last chunk of the choice has a finish reason.
     */
    public static ObjectNode chunk(String requestId, String model, long created, String role, String content,
                                   String finishReason) {
        ObjectNode n = JSON.createObjectNode().put("id", chatId(requestId)).put("object", "chat.completion.chunk")
                .put("created", created).put("model", model);
        ObjectNode choice = n.putArray("choices").addObject().put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        if (role != null) {
            delta.put("role", role);
        }
        if (content != null) {
            delta.put("content", content);
        }
        choice.putNull("logprobs");
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        return n;
    }

    /** The usage chunk that ends a stream asked for with {@code stream_options.include_usage}. */
    public static ObjectNode usageChunk(String requestId, String model, long created, ChatResult c) {
        ObjectNode n = JSON.createObjectNode().put("id", chatId(requestId)).put("object", "chat.completion.chunk")
                .put("created", created).put("model", model);
        n.putArray("choices");
        return usage(n, c);
    }

    private static ObjectNode usage(ObjectNode into, ChatResult c) {
        into.putObject("usage").put("prompt_tokens", c.getUsage().getPromptTokens())
                .put("completion_tokens", c.getUsage().getCompletionTokens())
                .put("total_tokens", c.getUsage().getTotalTokens());
        return into;
    }

    /** OpenAI's error body: {@code {"error": {message, type, param, code}}}. */
    public static ObjectNode error(String message, String type, String param, String code) {
        ObjectNode body = JSON.createObjectNode();
        ObjectNode e = body.putObject("error").put("message", message).put("type", type);
        if (param == null) {
            e.putNull("param");
        } else {
            e.put("param", param);
        }
        e.put("code", code);
        return body;
    }

    /** The error body of a worker's refusal. */
    public static ObjectNode rejected(RequestRejectedException e) {
        int status = statusOf(e.code());
        return error(e.detail(), status >= 500 ? "server_error" : "invalid_request_error", null, e.code());
    }

    /** The HTTP status for a worker's error code, or for the SDK's own codes of answers it could not use. */
    public static int statusOf(String code) {
        return ErrorCode.of(code).map(ErrorCode::httpStatus).orElseGet(() -> switch (code) {
            // the client's request was fine; what came back could not be used
            case "undecodable_response", "unexpected_output" -> 502;
            default -> 500;
        });
    }

    /** The id OpenAI gives a completion, made from the request id. */
    public static String chatId(String requestId) {
        return "chatcmpl-" + requestId;
    }
}
