package io.sealstream.client;

/**
 * The answer to a chat completion: the assistant message and why generation ended. Plaintext: it
 * exists only in this process; {@link #toString()} shows no text.
 *
 * @param requestId the request id it answers
 * @param model the model that served it
 * @param content the generated assistant message
 * @param finishReason {@code stop} (end of sequence or a stop sequence) or {@code length} (max tokens)
 * @param promptTokens tokens of the rendered prompt
 * @param completionTokens tokens generated
 * @param provenance which attested worker answered (empty from a worker older than provenance)
 */
public record ChatCompletion(String requestId, String model, String content, String finishReason, int promptTokens,
                             int completionTokens, java.util.Optional<AnswerProvenance> provenance) {
    @Override
    public String toString() {
        return "ChatCompletion[requestId=" + requestId + ", model=" + model + ", chars=" + content.length()
                + ", finishReason=" + finishReason + ", promptTokens=" + promptTokens + ", completionTokens="
                + completionTokens + "]";
    }
}
