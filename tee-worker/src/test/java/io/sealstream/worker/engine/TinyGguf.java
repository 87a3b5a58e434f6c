package io.sealstream.worker.engine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Writes a tiny llama-architecture GGUF with random weights: a real file for llama.cpp's real
 * loader, for tests where ../shared/models is absent. Its vocabulary is a SentencePiece-style one
 * of the three control tokens, the 128 ASCII byte tokens and a few words, so any ASCII text
 * tokenizes; its output is gibberish but deterministic under greedy decoding.
 */
public final class TinyGguf {
    private static final int EMBED = 32;
    private static final int HEADS = 4;
    private static final int FF = 64;
    private static final int LAYERS = 2;
    private static final int ALIGN = 32;

    private TinyGguf() {
    }

    /**
     * The chat model for tests: stories260K from {@code ../shared/models} when it is there (the
     * {@code sealstream.shared.dir} property moves it), else a random-weight model written into
     * {@code dir}, so the loader, the engine and the pipeline run either way.
     */
    public static Path storiesOrWritten(Path dir, long seed) throws IOException {
        Path stories = Path.of(System.getProperty("sealstream.shared.dir", "../../shared"), "models", "stories260K.gguf");
        return Files.isRegularFile(stories) ? stories : write(dir.resolve("tiny-random.gguf"), seed);
    }

    /** Writes the model to {@code file} with weights from {@code seed}; returns the file. */
    public static Path write(Path file, long seed) throws IOException {
        return write(file, seed, null);
    }

    /** As {@link #write(Path, long)}, with {@code chatTemplate} as the GGUF's chat template when not null. */
    public static Path write(Path file, long seed, String chatTemplate) throws IOException {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        for (int b = 0; b < 128; b++) { // ASCII only: generated text is then always whole characters
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        for (String w : List.of("\u2581", "\u2581Once", "\u2581upon", "\u2581a", "\u2581time", "\u2581there", "\u2581was",
                "\u2581the", "\u2581cat", "e", "t", "a", "o", "n")) {
            tokens.add(w);
            types.add(1);
        }
        int vocab = tokens.size();
        Map<String, Object> kv = new LinkedHashMap<>();
        kv.put("general.architecture", "llama");
        kv.put("general.name", "tiny-random");
        kv.put("llama.context_length", 1024);
        kv.put("llama.embedding_length", EMBED);
        kv.put("llama.feed_forward_length", FF);
        kv.put("llama.attention.head_count", HEADS);
        kv.put("llama.attention.head_count_kv", HEADS);
        kv.put("llama.block_count", LAYERS);
        kv.put("llama.rope.dimension_count", EMBED / HEADS);
        kv.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        kv.put("tokenizer.ggml.model", "llama");
        kv.put("tokenizer.ggml.tokens", tokens);
        float[] scores = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            scores[i] = -i;
        }
        kv.put("tokenizer.ggml.scores", scores);
        kv.put("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
        kv.put("tokenizer.ggml.unknown_token_id", 0);
        kv.put("tokenizer.ggml.bos_token_id", 1);
        kv.put("tokenizer.ggml.eos_token_id", 2);
        if (chatTemplate != null) {
            kv.put("tokenizer.chat_template", chatTemplate);
        }

        Map<String, long[]> tensors = new LinkedHashMap<>();
        tensors.put("token_embd.weight", new long[] {EMBED, vocab});
        tensors.put("output_norm.weight", new long[] {EMBED});
        tensors.put("output.weight", new long[] {EMBED, vocab});
        for (int l = 0; l < LAYERS; l++) {
            String b = "blk." + l + ".";
            tensors.put(b + "attn_q.weight", new long[] {EMBED, EMBED});
            tensors.put(b + "attn_k.weight", new long[] {EMBED, EMBED});
            tensors.put(b + "attn_v.weight", new long[] {EMBED, EMBED});
            tensors.put(b + "attn_output.weight", new long[] {EMBED, EMBED});
            tensors.put(b + "attn_norm.weight", new long[] {EMBED});
            tensors.put(b + "ffn_gate.weight", new long[] {EMBED, FF});
            tensors.put(b + "ffn_down.weight", new long[] {FF, EMBED});
            tensors.put(b + "ffn_up.weight", new long[] {EMBED, FF});
            tensors.put(b + "ffn_norm.weight", new long[] {EMBED});
        }

        Out out = new Out();
        out.u32(0x46554747);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(kv.size());
        for (Map.Entry<String, Object> e : kv.entrySet()) {
            out.string(e.getKey());
            out.value(e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Map.Entry<String, long[]> t : tensors.entrySet()) {
            out.string(t.getKey());
            out.u32(t.getValue().length);
            for (long d : t.getValue()) {
                out.u64(d);
            }
            out.u32(0); // F32
            out.u64(offset);
            offsets.add(offset);
            offset = align(offset + 4 * elements(t.getValue()));
        }
        out.pad();
        Random random = new Random(seed);
        for (Map.Entry<String, long[]> t : tensors.entrySet()) {
            boolean norm = t.getKey().endsWith("norm.weight");
            long n = elements(t.getValue());
            for (long i = 0; i < n; i++) {
                out.f32(norm ? 1f : (float) (random.nextGaussian() * 0.5));
            }
            out.pad();
        }
        Files.write(file, out.bytes());
        return file;
    }

    private static long elements(long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    private static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** Little-endian GGUF encoding. */
    private static final class Out {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        void u32(int v) {
            buf.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
        }

        void u64(long v) {
            buf.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }

        void f32(float v) {
            u32(Float.floatToIntBits(v));
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            buf.writeBytes(b);
        }

        @SuppressWarnings("unchecked")
        void value(Object v) {
            if (v instanceof String s) {
                u32(8);
                string(s);
            } else if (v instanceof Integer i) {
                u32(4);
                u32(i);
            } else if (v instanceof Float f) {
                u32(6);
                f32(f);
            } else if (v instanceof List<?> list) {
                u32(9);
                u32(8);
                u64(list.size());
                ((List<String>) list).forEach(this::string);
            } else if (v instanceof float[] fs) {
                u32(9);
                u32(6);
                u64(fs.length);
                for (float f : fs) {
                    f32(f);
                }
            } else if (v instanceof int[] is) {
                u32(9);
                u32(5);
                u64(is.length);
                for (int i : is) {
                    u32(i);
                }
            } else {
                throw new IllegalArgumentException("no GGUF encoding for " + v.getClass());
            }
        }

        void pad() {
            while (buf.size() % ALIGN != 0) {
                buf.write(0);
            }
        }

        byte[] bytes() {
            return buf.toByteArray();
        }
    }
}
