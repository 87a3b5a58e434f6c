package io.sealstream.proxy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sealstream.client.Answer;
import io.sealstream.client.openai.OpenAiBodies;
import io.sealstream.schemas.v1.ChatResult;
import java.time.Instant;

/**
 * One chat completion streamed to its caller as OpenAI's {@code chat.completion.chunk} events: the
 * role with the first text, each piece of text as the worker generates it (docs/streaming.md),
 * then, when the answer arrives, the finish reason with the answer's provenance, the usage when
 * asked for, and {@code [DONE]}. A failure before any text is an ordinary error response; after
 * it, an error event ends the stream (the OpenAI libraries raise it).
 */
final class StreamedCompletion {
    private final Exchange ex;
    private final String requestId;
    private final String model;
    private final boolean includeUsage;
    private final long created = Instant.now().getEpochSecond();
    private EventStream events;
    private boolean begun;

    StreamedCompletion(Exchange ex, String requestId, String model, boolean includeUsage) {
        this.ex = ex;
        this.requestId = requestId;
        this.model = model;
        this.includeUsage = includeUsage;
    }

    /** Text the worker generated since the previous piece. */
    synchronized void text(String delta) {
        if (begin() && !delta.isEmpty()) {
            events.event(OpenAiBodies.chunk(requestId, model, created, null, delta, null).toString());
        }
    }

    /** The answer arrived: its text was all handed on through {@link #text}. */
    synchronized void answered(Answer answer) {
        if (!begin()) {
            return;
        }
        ChatResult c = (ChatResult) answer.body().getOutput();
        ObjectNode finish = OpenAiBodies.chunk(requestId, model, created, null, null, c.getFinishReason().name());
        answer.provenance().ifPresent(p -> OpenAiBodies.provenance(finish, p));
        events.event(finish.toString());
        if (includeUsage) {
            events.event(OpenAiBodies.usageChunk(requestId, model, created, c).toString());
        }
        events.end("data: [DONE]\n\n");
    }

    /** The request failed, before or after text went out (the exchange ends the events then). */
    synchronized void failed(ProxyError error) {
        begun = true;
        ex.fail(error);
    }

    /** Starts the events with the role, once; false when the exchange was answered otherwise (the proxy stopping). */
    private boolean begin() {
        if (!begun) {
            begun = true;
            events = ex.events();
            if (events != null) {
                events.event(OpenAiBodies.chunk(requestId, model, created, "assistant", "", null).toString());
            }
        }
        return events != null;
    }
}
