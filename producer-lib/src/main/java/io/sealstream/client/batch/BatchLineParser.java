package io.sealstream.client.batch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.client.openai.OpenAiRequests;
import io.sealstream.schemas.v1.InferenceRequest;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Parses one line of an OpenAI Batch input file ({@code custom_id}, {@code method: "POST"},
 * {@code url}, {@code body}) into a {@link BatchLine}, or says why it cannot be sent. The body is
 * read by {@link OpenAiRequests}, as the proxy reads it, with {@code stream} false. Any other
 * field is refused rather than silently ignored.
 */
final class BatchLineParser {
    /** Longest custom_id, as OpenAI allows. */
    static final int MAX_CUSTOM_ID = 64;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> LINE_FIELDS = Set.of("custom_id", "method", "url", "body");

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
            Endpoint endpoint = Endpoint.of(url).orElseThrow(() -> new Refused("url '" + OpenAiRequests.clip(url)
                    + "' is not /v1/embeddings or /v1/chat/completions"));
            JsonNode body = n.get("body");
            if (body == null || !body.isObject()) {
                throw new Refused("body is missing or not an object");
            }
            InferenceRequest request = endpoint == Endpoint.EMBEDDINGS ? OpenAiRequests.embeddings(body, "body.")
                    : OpenAiRequests.chat(body, "body.", false).request();
            return new BatchLine(lineNumber, customId, endpoint, request);
        } catch (Refused | OpenAiRequests.InvalidBody r) {
            return new InvalidLine(lineNumber, customId, r.getMessage());
        }
    }

    private static void unknownFields(JsonNode n, Set<String> known, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            String f = it.next().getKey();
            if (!known.contains(f)) {
                throw new Refused(prefix + OpenAiRequests.clip(f) + " is not a supported field");
            }
        }
    }

    /** A refusal on the way through the line; becomes an {@link InvalidLine}. */
    private static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message, null, false, false);
        }
    }
}
