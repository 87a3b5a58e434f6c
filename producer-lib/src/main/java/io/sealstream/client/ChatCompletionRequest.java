package io.sealstream.client;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.InferenceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A chat completion request (OpenAI {@code /v1/chat/completions} semantics). Plaintext: it is
 * sealed before it leaves the client, and {@link #toString()} shows no message text.
 *
 * <pre>{@code
 * ChatCompletionRequest r = ChatCompletionRequest.builder("stories260K")
 *         .system("You tell short stories.").user("Once upon a time")
 *         .maxTokens(40).temperature(0).build();
 * }</pre>
 */
public final class ChatCompletionRequest {
    /** Who wrote a message. */
    public enum Role { SYSTEM, USER, ASSISTANT }

    /** One message of the conversation. */
    public record Message(Role role, String content) {
        public Message {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(content, "content");
        }

        @Override
        public String toString() {
            return "Message[role=" + role + ", chars=" + content.length() + "]";
        }
    }

    /** Stop sequences per request, as OpenAI allows. */
    public static final int MAX_STOP_SEQUENCES = 4;

    private final String model;
    private final List<Message> messages;
    private final Integer maxTokens;
    private final Float temperature;
    private final Float topP;
    private final List<String> stop;
    private final Long seed;

    private ChatCompletionRequest(Builder b) {
        this.model = b.model;
        this.messages = List.copyOf(b.messages);
        this.maxTokens = b.maxTokens;
        this.temperature = b.temperature;
        this.topP = b.topP;
        this.stop = List.copyOf(b.stop);
        this.seed = b.seed;
    }

    public static Builder builder(String model) {
        return new Builder(model);
    }

    public String model() {
        return model;
    }

    public List<Message> messages() {
        return messages;
    }

    /** null: the worker's default (256). */
    public Integer maxTokens() {
        return maxTokens;
    }

    /** null: 1. 0 is greedy decoding. */
    public Float temperature() {
        return temperature;
    }

    /** null: 1. */
    public Float topP() {
        return topP;
    }

    public List<String> stop() {
        return stop;
    }

    /** null: random sampling; a seed makes sampled output repeatable. */
    public Long seed() {
        return seed;
    }

    /** The plaintext request this becomes: what is sealed and what the worker opens. */
    public InferenceRequest toInferenceRequest() {
        List<ChatMessage> turns = messages.stream()
                .map(m -> new ChatMessage(ChatRole.valueOf(m.role().name().toLowerCase(Locale.ROOT)), m.content()))
                .toList();
        return new InferenceRequest(model, new ChatInput(turns, new ChatParameters(maxTokens, temperature, topP, stop,
                seed, false)));
    }

    @Override
    public String toString() {
        return "ChatCompletionRequest[model=" + model + ", messages=" + messages.size() + ", maxTokens=" + maxTokens
                + ", temperature=" + temperature + ", topP=" + topP + ", stop=" + stop.size() + ", seed=" + seed + "]";
    }

    /** Builds a request; {@link #build()} checks what the worker would refuse. */
    public static final class Builder {
        private final String model;
        private final List<Message> messages = new ArrayList<>();
        private Integer maxTokens;
        private Float temperature;
        private Float topP;
        private final List<String> stop = new ArrayList<>();
        private Long seed;

        private Builder(String model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        public Builder message(Role role, String content) {
            messages.add(new Message(role, content));
            return this;
        }

        public Builder system(String content) {
            return message(Role.SYSTEM, content);
        }

        public Builder user(String content) {
            return message(Role.USER, content);
        }

        public Builder assistant(String content) {
            return message(Role.ASSISTANT, content);
        }

        public Builder maxTokens(int maxTokens) {
            this.maxTokens = maxTokens;
            return this;
        }

        public Builder temperature(float temperature) {
            this.temperature = temperature;
            return this;
        }

        public Builder topP(float topP) {
            this.topP = topP;
            return this;
        }

        /** Adds stop sequences (at most 4 in all): the text ends before the first one generated. */
        public Builder stop(String... sequences) {
            stop.addAll(List.of(sequences));
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @throws IllegalArgumentException naming, by its OpenAI field name, the first parameter the
         *     worker would refuse
         */
        public ChatCompletionRequest build() {
            if (messages.isEmpty()) {
                throw new IllegalArgumentException("messages must hold at least one message");
            }
            if (maxTokens != null && maxTokens < 1) {
                throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens);
            }
            if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
                throw new IllegalArgumentException("temperature must be from 0 to 2, got " + temperature);
            }
            if (topP != null && !(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("top_p must be above 0 and at most 1, got " + topP);
            }
            if (stop.size() > MAX_STOP_SEQUENCES || stop.stream().anyMatch(String::isEmpty)) {
                throw new IllegalArgumentException("stop takes at most " + MAX_STOP_SEQUENCES
                        + " non-empty sequences, got " + stop.size());
            }
            return new ChatCompletionRequest(this);
        }
    }
}
