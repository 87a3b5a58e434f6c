package io.sealstream.worker.engine;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The key-value metadata at the head of a GGUF file (versions 2 and 3): architecture, context
 * length, tokenizer flags and the chat template, read before llama.cpp sees the file so the engine
 * can decide how to render chat messages and reject a file that is not a GGUF model with a clear
 * message. Arrays are skipped (only their length is kept); every length is bounded, so a
 * malformed header cannot make the reader allocate without limit.
 *
 * @param version the GGUF version
 * @param tensorCount how many tensors the file declares
 * @param values scalar and string values by key; an array value is kept as its element count (Long)
 */
record GgufMetadata(int version, long tensorCount, Map<String, Object> values) {
    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final long MAX_STRING = 16L << 20; // chat templates are a few KB
    private static final long MAX_KEYS = 1L << 16;

    static GgufMetadata read(Path file) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            LittleEndian r = new LittleEndian(new DataInputStream(in));
            if (r.u32() != MAGIC) {
                throw new IOException(file.getFileName() + " is not a GGUF file (no GGUF magic)");
            }
            int version = r.u32();
            if (version != 2 && version != 3) {
                throw new IOException(file.getFileName() + " is GGUF version " + version + "; versions 2 and 3 load");
            }
            long tensors = r.u64();
            long keys = r.u64();
            if (keys < 0 || keys > MAX_KEYS || tensors < 0) {
                throw new IOException(file.getFileName() + " declares " + keys + " metadata keys and " + tensors
                        + " tensors; the header is damaged");
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (long i = 0; i < keys; i++) {
                String key = r.string();
                values.put(key, r.value(r.u32(), true));
            }
            return new GgufMetadata(version, tensors, Map.copyOf(values));
        } catch (EOFException e) {
            throw new IOException(file.getFileName() + " ends inside its GGUF metadata: the file is truncated");
        }
    }

    String architecture() {
        return values.getOrDefault("general.architecture", "unknown").toString();
    }

    /** The context length the model was trained for, if the file says. */
    Optional<Integer> trainedContextLength() {
        return number(architecture() + ".context_length").map(Long::intValue);
    }

    /** The Jinja chat template the model ships, if any. */
    Optional<String> chatTemplate() {
        return Optional.ofNullable(values.get("tokenizer.chat_template")).map(Object::toString).filter(s -> !s.isBlank());
    }

    /** Whether the tokenizer puts a BOS token before a prompt (llama.cpp's default for SPM vocabularies is yes). */
    boolean addsBos() {
        Object v = values.get("tokenizer.ggml.add_bos_token");
        if (v instanceof Boolean b) {
            return b;
        }
        return "llama".equals(values.get("tokenizer.ggml.model"));
    }

    private Optional<Long> number(String key) {
        return values.get(key) instanceof Number n ? Optional.of(n.longValue()) : Optional.empty();
    }

    /** Little-endian reads of the GGUF value types, counting array items against a total bound. */
    private static final class LittleEndian {
        private static final long MAX_ITEMS = 1L << 24; // vocabularies are ~10^5 tokens, three arrays of them
        private final DataInputStream in;
        private long items;

        LittleEndian(DataInputStream in) {
            this.in = in;
        }

        int u32() throws IOException {
            return Integer.reverseBytes(in.readInt());
        }

        long u64() throws IOException {
            return Long.reverseBytes(in.readLong());
        }

        String string() throws IOException {
            long n = u64();
            if (n < 0 || n > MAX_STRING) {
                throw new IOException("a GGUF string claims " + n + " bytes; the metadata is damaged");
            }
            return new String(in.readNBytes((int) n), StandardCharsets.UTF_8);
        }

        Object value(int type, boolean keep) throws IOException {
            return switch (type) {
                case 0, 1 -> (long) (type == 0 ? in.readUnsignedByte() : in.readByte());
                case 2 -> (long) Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
                case 3 -> (long) Short.reverseBytes(in.readShort());
                case 4 -> Integer.toUnsignedLong(u32());
                case 5 -> (long) u32();
                case 6 -> Float.intBitsToFloat(u32());
                case 7 -> in.readByte() != 0;
                case 8 -> keep ? string() : skipString();
                case 9 -> array();
                case 10, 11 -> u64();
                case 12 -> Double.longBitsToDouble(u64());
                default -> throw new IOException("unknown GGUF value type " + type + "; the metadata is damaged");
            };
        }

        private Object skipString() throws IOException {
            long n = u64();
            if (n < 0 || n > MAX_STRING) {
                throw new IOException("a GGUF string claims " + n + " bytes; the metadata is damaged");
            }
            in.skipNBytes(n);
            return "";
        }

        private Object array() throws IOException {
            int itemType = u32();
            long count = u64();
            if (itemType == 9) {
                throw new IOException("a GGUF array holds arrays; model metadata never does, the header is damaged");
            }
            items += count;
            if (count < 0 || items > MAX_ITEMS) {
                throw new IOException("the GGUF arrays claim more than " + MAX_ITEMS + " items; the metadata is damaged");
            }
            for (long i = 0; i < count; i++) {
                value(itemType, false);
            }
            return count;
        }
    }
}
