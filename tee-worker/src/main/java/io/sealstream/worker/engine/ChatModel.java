package io.sealstream.worker.engine;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A GGUF chat model and how the engine runs it.
 *
 * @param file the GGUF file
 * @param name the model name requests use; by default the file name without {@code .gguf}
 * @param contextSize llama.cpp's total context (KV cache) in tokens, shared by the slots; 0 means
 *     the model's trained context, at most {@value #MAX_DEFAULT_CONTEXT}
 * @param parallelSlots sequences decoded together; each gets {@code contextSize / parallelSlots} tokens
 * @param threads CPU threads for llama.cpp
 * @param tokenBudget prompt plus max_tokens of all sequences in flight at once; 0 means contextSize
 * @param scratchDir where the engine copies the file while measuring it, and loads it from: inside
 *     the TEE's memory (a tmpfs, the worker's in-memory state directory), with room for the model
 */
public record ChatModel(Path file, String name, int contextSize, int parallelSlots, int threads, int tokenBudget,
                        Path scratchDir) {
    /** Default context when the file's trained context is larger or unknown. */
    public static final int MAX_DEFAULT_CONTEXT = 4096;
    /** Default number of parallel slots: on two cores four slots decoded about twice as fast as one at a time. */
    public static final int DEFAULT_PARALLEL_SLOTS = 4;

    public ChatModel {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(scratchDir, "scratchDir");
        if (name.isBlank() || contextSize < 0 || parallelSlots < 1 || threads < 1 || tokenBudget < 0) {
            throw new IllegalArgumentException("chat model " + name + ": name must be set, contextSize >= 0, "
                    + "parallelSlots >= 1, threads >= 1, tokenBudget >= 0");
        }
    }

    /**
     * {@code file} with the default name, context, four slots, every core, a budget of the whole
     * context, and {@code java.io.tmpdir} to copy it into.
     */
    public static ChatModel of(Path file) {
        String base = file.getFileName().toString();
        String name = base.endsWith(".gguf") ? base.substring(0, base.length() - ".gguf".length()) : base;
        return new ChatModel(file, name, 0, DEFAULT_PARALLEL_SLOTS, Runtime.getRuntime().availableProcessors(), 0,
                Path.of(System.getProperty("java.io.tmpdir")));
    }

    public ChatModel withScratchDir(Path dir) {
        return new ChatModel(file, name, contextSize, parallelSlots, threads, tokenBudget, dir);
    }

    public ChatModel withName(String newName) {
        return new ChatModel(file, newName, contextSize, parallelSlots, threads, tokenBudget, scratchDir);
    }

    public ChatModel withParallelSlots(int slots) {
        return new ChatModel(file, name, contextSize, slots, threads, tokenBudget, scratchDir);
    }

    public ChatModel withContextSize(int tokens) {
        return new ChatModel(file, name, tokens, parallelSlots, threads, tokenBudget, scratchDir);
    }

    public ChatModel withTokenBudget(int tokens) {
        return new ChatModel(file, name, contextSize, parallelSlots, threads, tokens, scratchDir);
    }
}
