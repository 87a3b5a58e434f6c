package io.sealstream.envelope;

import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatRole;
import io.sealstream.schemas.v1.EmbeddingsInput;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.Embedding;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** Shared test data: requests that carry a canary string, and a clock tests can move. */
final class Fixtures {
    static final String TOPIC = "sealstream.requests";
    static final String CLIENT = "acme";
    static final String CANARY = "CANARY-7f3e-patient-record";
    static final String MODEL = "all-minilm-l6-v2";

    private Fixtures() {
    }

    static InferenceRequest embeddings(String... texts) {
        return InferenceRequest.newBuilder()
                .setModel("all-minilm-l6-v2")
                .setTask(EmbeddingsInput.newBuilder().setInput(List.of(texts)).build())
                .build();
    }

    static InferenceRequest chat(String prompt) {
        return InferenceRequest.newBuilder()
                .setModel("stories260k")
                .setTask(ChatInput.newBuilder()
                        .setMessages(List.of(new ChatMessage(ChatRole.user, prompt)))
                        .setParameters(ChatParameters.newBuilder().setMaxTokens(16).setTemperature(0f)
                                .setStop(List.of("\n")).setSeed(42L).build())
                        .build())
                .build();
    }

    /** A chat request that asks for its answer to be streamed in chunks. */
    static InferenceRequest streamedChat(String prompt) {
        InferenceRequest r = chat(prompt);
        ChatInput chat = (ChatInput) r.getTask();
        return InferenceRequest.newBuilder(r).setTask(ChatInput.newBuilder(chat).setParameters(
                ChatParameters.newBuilder(chat.getParameters()).setStream(true).build()).build()).build();
    }

    static InferenceResponse embeddingResult(float... vector) {
        List<Float> v = new java.util.ArrayList<>();
        for (float f : vector) {
            v.add(f);
        }
        return InferenceResponse.newBuilder()
                .setModel("all-minilm-l6-v2")
                .setOutput(EmbeddingsResult.newBuilder()
                        .setData(List.of(new Embedding(0, v)))
                        .setUsage(new Usage(7, 0, 7))
                        .build())
                .setError(null)
                .build();
    }

    /** A clock that stays where a test puts it. */
    static final class MovableClock extends Clock {
        private Instant now;

        MovableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
