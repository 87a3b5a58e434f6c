package io.sealstream.client.openai;

import com.fasterxml.jackson.databind.JsonNode;
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
 * Reads the bodies of OpenAI's {@code /v1/embeddings} and {@code /v1/chat/completions} into the
 * request schema. One reader for every front door (a batch file's lines, the local proxy), so a
 * body is held to the same rules wherever it arrives. Embeddings take {@code model} and
 * {@code input} (a string or a list of strings); chat completions take {@code model},
 * {@code messages} (role system, user or assistant, string content), and optionally
 * {@code max_tokens} (or {@code max_completion_tokens}), {@code temperature}, {@code top_p},
 * {@code stop} (string or list), {@code seed}, {@code n} = 1 and {@code stream}. Any other field is
 * refused rather than silently ignored. Messages never quote a prompt: they name the field.
 */
public final class OpenAiRequests {
    private static final Set<String> EMBEDDING_FIELDS = Set.of("model", "input", "encoding_format", "user");
    private static final Set<String> CHAT_FIELDS = Set.of("model", "messages", "max_tokens", "max_completion_tokens",
            "temperature", "top_p", "stop", "seed", "n", "stream", "stream_options", "user");

    private OpenAiRequests() {
    }

    /** An embeddings body read: the request, and whether vectors go back as base64 float32 (little-endian). */
    public record Embeddings(InferenceRequest request, boolean base64) {
    }

    /** A chat body read: the request, and whether the caller asked for server-sent events. */
    public record Chat(InferenceRequest request, boolean stream, boolean includeUsage) {
    }

    /**
     * An embeddings body whose vectors go back as JSON numbers ({@code encoding_format} "float").
     *
     * @param prefix put before each field name in messages ({@code "body."} for a batch line)
     * @throws InvalidBody naming the field that is wrong
     */
    public static InferenceRequest embeddings(JsonNode body, String prefix) {
        return embeddings(body, prefix, false).request();
    }

    /**
     * An embeddings body; with {@code base64Allowed}, {@code encoding_format} may also be "base64"
     * (what OpenAI's own client libraries ask for by default).
     *
     * @throws InvalidBody naming the field that is wrong
     */
    public static Embeddings embeddings(JsonNode body, String prefix, boolean base64Allowed) {
        requireObject(body, prefix);
        unknownFields(body, EMBEDDING_FIELDS, prefix);
        String model = model(body, prefix);
        String format = body.path("encoding_format").isNull() ? "float" : body.path("encoding_format").asText("float");
        boolean base64 = base64Allowed && "base64".equals(format);
        if (!base64 && !"float".equals(format)) {
            throw new InvalidBody(prefix, "encoding_format", base64Allowed ? "must be \"float\" or \"base64\""
                    : "must be \"float\"");
        }
        JsonNode input = body.get("input");
        List<String> texts = new ArrayList<>();
        if (input != null && input.isTextual()) {
            texts.add(input.asText());
        } else if (input != null && input.isArray() && !input.isEmpty()) {
            for (JsonNode t : input) {
                if (!t.isTextual()) {
                    throw new InvalidBody(prefix, "input", "must hold strings (token arrays are not supported)");
                }
                texts.add(t.asText());
            }
        } else {
            throw new InvalidBody(prefix, "input", "must be a string or a non-empty list of strings");
        }
        if (texts.size() > RequestLimits.MAX_EMBEDDING_INPUTS) {
            throw new InvalidBody(prefix, "input", "has " + texts.size() + " texts; a request takes at most "
                    + RequestLimits.MAX_EMBEDDING_INPUTS + ", split it over several requests");
        }
        return new Embeddings(new InferenceRequest(model, new EmbeddingsInput(texts)), base64);
    }

    /**
     * A chat completions body.
     *
     * @param prefix put before each field name in messages ({@code "body."} for a batch line)
     * @param streamAllowed whether {@code stream: true} may be asked for (not in a batch)
     * @throws InvalidBody naming the field that is wrong
     */
    public static Chat chat(JsonNode body, String prefix, boolean streamAllowed) {
        requireObject(body, prefix);
        unknownFields(body, CHAT_FIELDS, prefix);
        ChatCompletionRequest.Builder request = ChatCompletionRequest.builder(model(body, prefix));
        JsonNode messages = body.get("messages");
        if (messages == null || !messages.isArray() || messages.isEmpty()) {
            throw new InvalidBody(prefix, "messages", "must be a non-empty list");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String role = m.path("role").asText("");
            if (!Set.of("system", "user", "assistant").contains(role)) {
                throw new InvalidBody(prefix, "messages[" + i + "].role", "must be system, user or assistant");
            }
            if (!m.path("content").isTextual()) {
                throw new InvalidBody(prefix, "messages[" + i + "].content", "must be a string");
            }
            request.message(ChatCompletionRequest.Role.valueOf(role.toUpperCase(Locale.ROOT)), m.get("content").asText());
        }
        if (body.has("n") && !body.get("n").isNull() && body.get("n").asInt(-1) != 1) {
            throw new InvalidBody(prefix, "n", "must be 1: one completion per request");
        }
        boolean stream = false;
        JsonNode s = body.get("stream");
        if (s != null && !s.isNull()) {
            if (!s.isBoolean()) {
                throw new InvalidBody(prefix, "stream", "must be true or false");
            }
            stream = s.asBoolean();
            if (stream && !streamAllowed) {
                throw new InvalidBody(prefix, "stream", "must be false in a batch");
            }
        }
        boolean includeUsage = false;
        JsonNode options = body.get("stream_options");
        if (options != null && !options.isNull()) {
            if (!stream || !options.isObject()) {
                throw new InvalidBody(prefix, "stream_options", "is only for stream: true, as an object");
            }
            unknownFields(options, Set.of("include_usage"), prefix + "stream_options.");
            includeUsage = options.path("include_usage").asBoolean(false);
        }
        Integer maxTokens = optionalInt(body, body.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens",
                prefix);
        if (maxTokens != null) {
            request.maxTokens(maxTokens);
        }
        Float temperature = optionalFloat(body, "temperature", prefix);
        if (temperature != null) {
            request.temperature(temperature);
        }
        Float topP = optionalFloat(body, "top_p", prefix);
        if (topP != null) {
            request.topP(topP);
        }
        JsonNode stop = body.get("stop");
        if (stop != null && stop.isTextual()) {
            request.stop(stop.asText());
        } else if (stop != null && stop.isArray()) {
            for (JsonNode x : stop) {
                if (!x.isTextual()) {
                    throw new InvalidBody(prefix, "stop", "must be a string or a list of strings");
                }
                request.stop(x.asText());
            }
        } else if (stop != null && !stop.isNull()) {
            throw new InvalidBody(prefix, "stop", "must be a string or a list of strings");
        }
        if (body.has("seed") && !body.get("seed").isNull()) {
            if (!body.get("seed").isIntegralNumber() || !body.get("seed").canConvertToLong()) {
                throw new InvalidBody(prefix, "seed", "must be an integer");
            }
            request.seed(body.get("seed").asLong());
        }
        try {
            // the SDK's own checks of the values, so every front door and a direct call share one set of rules
            return new Chat(request.build().toInferenceRequest(), stream, includeUsage);
        } catch (IllegalArgumentException e) {
            throw new InvalidBody(prefix + e.getMessage(), fieldOf(e.getMessage()));
        }
    }

    private static void requireObject(JsonNode body, String prefix) {
        if (body == null || !body.isObject()) {
            throw new InvalidBody(prefix.isEmpty() ? "the body is not a JSON object" : prefix.substring(0,
                    prefix.length() - 1) + " is missing or not an object", null);
        }
    }

    private static String model(JsonNode body, String prefix) {
        if (!body.path("model").isTextual() || body.get("model").asText().isBlank()) {
            throw new InvalidBody(prefix, "model", "is missing or not a string");
        }
        return body.get("model").asText();
    }

    private static Integer optionalInt(JsonNode body, String field, String prefix) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new InvalidBody(prefix, field, "must be an integer");
        }
        return v.asInt();
    }

    private static Float optionalFloat(JsonNode body, String field, String prefix) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new InvalidBody(prefix, field, "must be a number");
        }
        return (float) v.asDouble();
    }

    private static void unknownFields(JsonNode n, Set<String> known, String prefix) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            String f = it.next().getKey();
            if (!known.contains(f)) {
                throw new InvalidBody(prefix, clip(f), "is not a supported field");
            }
        }
    }

    /** The field an SDK check names first in its message, e.g. {@code temperature} of "temperature must be ...". */
    private static String fieldOf(String message) {
        int space = message.indexOf(' ');
        String first = space < 0 ? message : message.substring(0, space);
        return first.matches("[a-z_]+") ? first : null;
    }

    /** A name from the request, shortened and made printable before it is quoted back. */
    public static String clip(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** A body that cannot be sent: the message says which field and what to do. */
    public static final class InvalidBody extends IllegalArgumentException {
        private final String param;

        InvalidBody(String prefix, String field, String problem) {
            this(prefix + field + " " + problem, field);
        }

        InvalidBody(String message, String param) {
            super(message, null);
            this.param = param;
        }

        /** The field at fault, as OpenAI's {@code error.param} names it; null for the whole body. */
        public String param() {
            return param;
        }
    }
}
