package io.sealstream.client.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.client.ChatCompletionRequest;
import io.sealstream.schemas.RequestLimits;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.InferenceRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses one line of an OpenAI Batch input file ({@code custom_id}, {@code method: "POST"},
 * {@code url}, {@code body}) into a {@link BatchLine}, or says why it cannot be sent. The body
 * must fit the request schema: embeddings take {@code model} and {@code input} (a string or a
 * list of strings); chat completions take {@code model}, {@code messages} (role system, user or
 * assistant, string content), and optionally {@code max_tokens} (or {@code max_completion_tokens}),
 * {@code temperature}, {@code top_p}, {@code stop} (string or list), {@code seed}, {@code n} = 1
 * and {@code stream} = false. Any other field is refused rather than silently ignored.
 */
final class BatchLineParser {
    /** Longest custom_id, as OpenAI allows. */
    static final int MAX_CUSTOM_ID = 64;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> LINE_FIELDS = Set.of("custom_id", "method", "url", "body");
    private static final Set<String> EMBEDDING_FIELDS = Set.of("model", "input", "encoding_format", "user");
    private static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "stop", "seed", "n", "stream", "user");

    private BatchLineParser() {
    }

    /** The parsed line, or an {@link InvalidLine}. */
    static Object parse(long lineNumber, String text) {
        JsonNode n;
        try {
            n = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            // some Jackson limits (nesting depth, number length) come without a location
            return new InvalidLine(lineNumber, null, "not a JSON object (" + (e.getLocation() == null
                    ? "it exceeds a JSON nesting or length limit" : "JSON syntax error at column "
                    + e.getLocation().getColumnNr()) + ")");
        }
        if (n == null || !n.isObject()) {
            return new InvalidLine(lineNumber, null, "not a JSON object");
        }
        String customId = n.path("custom_id").isTextual() ? n.get("custom_id").asText() : null;
        try {
            unknownFields(n, LINE_FIELDS, "");
            if (customId == null || customId.isEmpty()) {
                throw new Refused("custom_id is missing or not a string; give every line a unique custom_id");
            }
            if (customId.length() > MAX_CUSTOM_ID || customId.chars().anyMatch(Character::isISOControl)) {
                throw new Refused("custom_id has " + customId.length() + " characters or a control character; use at "
                        + "most " + MAX_CUSTOM_ID + " printable characters");
            }
            if (!"POST".equals(n.path("method").asText(null))) {
                throw new Refused("method must be \"POST\"");
            }
            String url = n.path("url").asText("");
            Endpoint endpoint = Endpoint.of(url).orElseThrow(() -> new Refused("url '" + clip(url)
                    + "' is not /v1/embeddings or /v1/chat/completions"));
            JsonNode body = n.get("body");
            if (body == null || !body.isObject()) {
                throw new Refused("body is missing or not an object");
            }
            InferenceRequest request = endpoint == Endpoint.EMBEDDINGS ? embeddings(body) : chat(body);
            return new BatchLine(lineNumber, customId, endpoint, request);
        } catch (Refused r) {
            return new InvalidLine(lineNumber, customId, r.getMessage());
        }
    }

    private static InferenceRequest embeddings(JsonNode body) {
        unknownFields(body, EMBEDDING_FIELDS, "body.");
        String model = model(body);
        if (body.has("encoding_format") && !"float".equals(body.get("encoding_format").asText())) {
            throw new Refused("body.encoding_format must be \"float\"");
        }
        JsonNode input = body.get("input");
        List<String> texts = new ArrayList<>();
        if (input != null && input.isTextual()) {
            texts.add(input.asText());
        } else if (input != null && input.isArray() && !input.isEmpty()) {
            for (JsonNode t : input) {
                if (!t.isTextual()) {
                    throw new Refused("body.input must hold strings (token arrays are not supported)");
                }
                texts.add(t.asText());
            }
        } else {
            throw new Refused("body.input must be a string or a non-empty list of strings");
        }
        if (texts.size() > RequestLimits.MAX_EMBEDDING_INPUTS) {
            throw new Refused("body.input has " + texts.size() + " texts; a request takes at most "
                    + RequestLimits.MAX_EMBEDDING_INPUTS + ", split it over several lines");
        }
        return new InferenceRequest(model, new EmbeddingsInput(texts));
    }

    private static InferenceRequest chat(JsonNode body) {
        unknownFields(body, CHAT_FIELDS, "body.");
        ChatCompletionRequest.Builder request = ChatCompletionRequest.builder(model(body));
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray()) {
            throw new Refused("body.messages must be a non-empty list");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (!Set.of("system", "user", "assistant").contains(role)) {
                throw new Refused("body.messages[" + i + "].role must be system, user or assistant");
            }
            if (!m.path("content").isTextual()) {
                throw new Refused("body.messages[" + i + "].content must be a string");
            }
            request.message(ChatCompletionRequest.Role.valueOf(role.toUpperCase(Locale.ROOT)), m.get("content").asText());
        }
        if (body.has("n") && body.get("n").asInt(-1) != 1) {
            throw new Refused("body.n must be 1: one completion per line");
        }
        if (body.has("stream") && body.get("stream").asBoolean(true)) {
            throw new Refused("body.stream must be false in a batch");
        }
        Integer maxTokens = optionalInt(body, body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens");
        if (maxTokens != null) {
            request.maxTokens(maxTokens);
        }
        Float temperature = optionalFloat(body, "temperature");
        if (temperature != null) {
            request.temperature(temperature);
        }
        Float topP = optionalFloat(body, "top_p");
        if (topP != null) {
            request.topP(topP);
        }
        JsonNode s = body.get("stop");
        if (s != null && s.isTextual()) {
            request.stop(s.asText());
        } else if (s != null && s.isArray()) {
            s.forEach(x -> request.stop(x.asText()));
        } else if (s != null && !s.isNull()) {
            throw new Refused("body.stop must be a string or a list of strings");
        }
        if (body.has("seed") && !body.get("seed").isNull()) {
            request.seed(body.get("seed").asLong());
        }
        try {
            // the SDK's own checks of the values, so a batch line and a direct call are held to the same rules
            return request.build().toInferenceRequest();
        } catch (IllegalArgumentException e) {
            throw new Refused("body." + e.getMessage());
        }
    }

    private static String model(JsonNode body) {
        if (!body.path("model").isTextual() || body.get("model").asText().isBlank()) {
            throw new Refused("body.model is missing or not a string");
        }
        return body.get("model").asText();
    }

    private static Integer optionalInt(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new Refused("body." + field + " must be an integer");
        }
        return v.asInt();
    }

    private static Float optionalFloat(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new Refused("body." + field + " must be a number");
        }
        return (float) v.asDouble();
    }

    private static void unknownFields(JsonNode n, Set<String> known, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            String f = it.next().getKey();
            if (!known.contains(f)) {
                throw new Refused(prefix + clip(f) + " is not a supported field");
            }
        }
    }

    private static String clip(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** A refusal on the way through the line; becomes an {@link InvalidLine}. */
    private static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }
}
