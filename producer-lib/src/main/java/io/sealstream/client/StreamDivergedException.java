package io.sealstream.client;

/**
 * A streamed answer's chunks showed text the answer does not begin with: the worker died while
 * generating it, and the attempt that answered (sampling anew) wrote other text. The answer itself
 * is genuine and complete ({@link #answer()}); what was streamed before it is not its prefix.
 * Show the answer in place of the streamed text, or send the request again.
 */
public final class StreamDivergedException extends SealstreamException {
    private final transient Answer answer;

    StreamDivergedException(String requestId, Answer answer) {
        super("the streamed text of request " + requestId + " is not the start of its answer: a worker failed "
                + "during generation and the request was answered by a new attempt; use the answer in place of "
                + "the streamed text, or send the request again", null);
        this.answer = answer;
    }

    /** The answer, complete and authenticated. */
    public Answer answer() {
        return answer;
    }
}
