package io.sealstream.envelope;

/**
 * A chunk of a streamed answer opened by the client: the text the worker generated since the
 * previous chunk of the same attempt. Plaintext; {@link #toString()} shows no text.
 *
 * @param requestId the request whose answer it is part of
 * @param attempt the generation it belongs to
 * @param seq its position in the attempt, from 0
 * @param last whether it is the attempt's final chunk
 * @param text the new text
 */
public record OpenedChunk(String requestId, String attempt, int seq, boolean last, String text) {
    @Override
    public String toString() {
        return "OpenedChunk[requestId=" + requestId + ", attempt=" + attempt + ", seq=" + seq + ", last=" + last
                + ", chars=" + text.length() + "]";
    }
}
