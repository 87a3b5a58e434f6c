package io.sealstream.envelope;

import io.sealstream.schemas.v1.EncryptedChunk;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Seals the chunks of one streamed answer as the worker generates it (docs/streaming.md). It holds
 * the request's stream key ({@code k_stream}), never the DEK or the response key; each generation
 * of the answer is an attempt with a random id, numbered from 0, and the key is zeroed after the
 * attempt's final chunk (or {@link #close()}), so a chunk can never be sealed after its attempt ended.
 */
public final class ChunkSealer implements AutoCloseable {
    /** Most chunks of one answer: far below what random 96-bit nonces under one key allow. */
    public static final int MAX_CHUNKS = 4096;
    /**
     * Chunk plaintexts are padded to a multiple of this many bytes: a chunk every 50 ms carries a
     * few tokens, and unpadded its length would show Kafka the length of each token.
     */
    public static final int PAD_BLOCK = 256;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String requestId;
    private final String clientId;
    private final String sessionId;
    private final String streamTopic;
    private String attempt;
    private final byte[] streamKey;
    private int next;
    private boolean ended;
    private boolean keyZeroed;

    ChunkSealer(RequestHeader header, byte[] streamKey) {
        this.requestId = header.requestId();
        this.clientId = header.clientId();
        this.sessionId = header.sessionId();
        this.streamTopic = EnvelopeProtocol.streamTopicFor(header.clientId());
        this.attempt = newAttempt();
        this.streamKey = streamKey;
    }

    /**
     * Starts a new attempt (the worker generates the answer again): a new random attempt id, from
     * seq 0. The client follows one attempt, so text of the two is never mixed.
     *
     * @throws IllegalStateException after the final chunk or {@link #close()}: the key is gone
     */
    public synchronized void restart() {
        if (keyZeroed) {
            throw new IllegalStateException("the stream of " + requestId + " has ended; it cannot start again");
        }
        attempt = newAttempt();
        next = 0;
        ended = false;
    }

    private static String newAttempt() {
        byte[] a = new byte[8];
        RANDOM.nextBytes(a);
        return HexFormat.of().formatHex(a);
    }

    /**
     * Seals {@code text}, the answer's text generated since the previous chunk; {@code last}
     * marks the attempt's final chunk.
     *
     * @throws IllegalStateException after the final chunk, after {@link #close()}, or past {@link #MAX_CHUNKS}
     */
    public synchronized EncryptedChunk seal(String text, boolean last, Instant now) {
        Objects.requireNonNull(text, "text");
        if (ended) {
            throw new IllegalStateException("the stream of " + requestId + " has ended; no chunk follows its final one");
        }
        if (next >= MAX_CHUNKS) {
            throw new IllegalStateException("the stream of " + requestId + " has " + MAX_CHUNKS
                    + " chunks, the most one answer may have; send larger chunks");
        }
        int seq = next++;
        long createdAtMillis = now.toEpochMilli();
        byte[] aad = EnvelopeProtocol.chunkAad(streamTopic, requestId, clientId, sessionId, attempt, seq, last,
                createdAtMillis);
        EnvelopeProtocol.Sealed s = EnvelopeProtocol.seal(streamKey.clone(), padded(text), aad);
        if (last) {
            close();
        }
        return EncryptedChunk.newBuilder()
                .setVersion(EnvelopeProtocol.VERSION)
                .setRequestId(requestId)
                .setClientId(clientId)
                .setSessionId(sessionId)
                .setAttempt(attempt)
                .setSeq(seq)
                .setFinal$(last)
                .setCreatedAt(Instant.ofEpochMilli(createdAtMillis))
                .setNonce(ByteBuffer.wrap(s.nonce()))
                .setCiphertext(ByteBuffer.wrap(s.ciphertext()))
                .build();
    }

    /**
     * The plaintext of a chunk: the text's length in UTF-8 bytes (4 bytes, big-endian), the text,
     * then zeros up to a multiple of {@link #PAD_BLOCK}.
     */
    static byte[] padded(String text) {
        ByteBuffer utf8;
        try {
            // a new encoder reports what it cannot encode instead of writing '?'
            utf8 = StandardCharsets.UTF_8.newEncoder().encode(java.nio.CharBuffer.wrap(text));
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("the chunk text is not valid Unicode (a lone surrogate)", e);
        }
        int length = utf8.remaining();
        int size = ((4 + length + PAD_BLOCK - 1) / PAD_BLOCK) * PAD_BLOCK;
        return ByteBuffer.allocate(size).putInt(length).put(utf8).array();
    }

    /** The topic the chunks go to: {@code sealstream.streams.<client_id>}. */
    public String streamTopic() {
        return streamTopic;
    }

    /** Ends the attempt without a final chunk (the generation failed); the key is zeroed. */
    @Override
    public synchronized void close() {
        ended = true;
        keyZeroed = true;
        Arrays.fill(streamKey, (byte) 0);
    }

    @Override
    public String toString() {
        return "ChunkSealer[requestId=" + requestId + ", attempt=" + attempt + ", next=" + next + "]";
    }
}
