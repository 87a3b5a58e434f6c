package io.sealstream.worker.engine;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaIterator;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import io.sealstream.streams.TokenSink;
import de.kherud.llama.ModelParameters;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.ChatInput;
import io.sealstream.schemas.v1.ChatMessage;
import io.sealstream.schemas.v1.ChatParameters;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.FinishReason;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.schemas.v1.Usage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chat completions with a GGUF model on llama.cpp (through the {@code de.kherud:llama} binding),
 * with OpenAI chat semantics: messages rendered by {@link ChatPrompt}, {@code max_tokens} (default
 * {@value #DEFAULT_MAX_TOKENS}), {@code temperature} (default 1; 0 is greedy), {@code top_p}
 * (default 1), {@code seed} (deterministic output for a given seed; reduced to 31 bits), up to
 * {@value #MAX_STOP_SEQUENCES} {@code stop} sequences (the text ends before the first one found),
 * {@code finish_reason} ({@code stop} at end of sequence or a stop sequence, {@code length} at
 * max_tokens) and usage in tokens. llama.cpp's top-k and min-p filters are off, as OpenAI's API has
 * none.
 *
 * <p><b>Batching.</b> The requests of a batch are decoded together in llama.cpp's parallel slots
 * (continuous batching), at most {@link ChatModel#parallelSlots()} at once and at most
 * {@link ChatModel#tokenBudget()} tokens of prompt plus max_tokens in flight; a request waits for
 * room in order. Each sequence has {@code contextSize / parallelSlots} tokens of context: a
 * request whose prompt plus max_tokens exceeds that gets {@code invalid_request}.
 *
 * <p><b>Integrity.</b> The model digest is the SHA-256 of the GGUF file, as {@code sha256sum}
 * prints it. The file is read once: copied into a private directory under
 * {@link ChatModel#scratchDir()} while the bytes copied are hashed, so a host that serves one file
 * to the hash and another to the loader cannot make the worker attest a model it does not run.
 * The header and the model are read from that copy, into memory (no mmap), and the copy is hashed
 * again after loading and deleted; if the two hashes differ the engine refuses to start.
 *
 * <p><b>Logging.</b> llama.cpp's logging is off and its log callback drops every message
 * ({@link LlamaRuntime}); this class logs counts and durations only, never prompt or output text.
 */
public final class ChatEngine implements InferenceEngine {
    private static final Logger LOG = LoggerFactory.getLogger(ChatEngine.class);
    /** max_tokens when a request does not say. */
    public static final int DEFAULT_MAX_TOKENS = 256;
    /** Stop sequences per request, as OpenAI allows. */
    public static final int MAX_STOP_SEQUENCES = 4;
    private static final int CLOSE_WAIT_SECONDS = 30;

    private final java.time.Duration loadTime;
    private final ChatModel config;
    private final LlamaModel model;
    private final byte[] digest;
    private final boolean hasTemplate;
    private final boolean addsBos;
    private final int contextSize;
    private final int slotContext;
    private final int tokenBudget;
    private final Semaphore budget;
    private final ExecutorService slots;
    private boolean closed; // guarded by this

    private ChatEngine(ChatModel config) {
        this.config = config;
        long started = System.nanoTime();
        String architecture;
        // read once: the bytes hashed are the bytes copied, and the header and the model come from the copy
        try (MeasuredCopy copy = MeasuredCopy.of(config.file(), config.scratchDir())) {
            Path file = copy.file();
            GgufMetadata meta;
            try {
                meta = GgufMetadata.read(file);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot load chat model " + config.file() + ": " + e.getMessage(), e);
            }
            architecture = meta.architecture();
            this.hasTemplate = meta.chatTemplate().isPresent();
            this.addsBos = meta.addsBos();
            int trained = meta.trainedContextLength().orElse(ChatModel.MAX_DEFAULT_CONTEXT);
            this.contextSize = config.contextSize() > 0 ? config.contextSize()
                    : Math.min(trained, ChatModel.MAX_DEFAULT_CONTEXT);
            this.slotContext = contextSize / config.parallelSlots();
            if (slotContext < 16) {
                throw new IllegalArgumentException("chat model " + config.name() + ": a context of " + contextSize
                        + " tokens over " + config.parallelSlots() + " slots leaves " + slotContext
                        + " per sequence; raise the context or lower the slots");
            }
            // never below one sequence's context, or a request that fits its slot could wait forever
            this.tokenBudget = Math.max(slotContext, config.tokenBudget() > 0 ? config.tokenBudget() : contextSize);
            LlamaRuntime.start();
            this.model = new LlamaModel(new ModelParameters()
                    .setModel(file.toString())
                    .setCtxSize(contextSize)
                    .setParallel(config.parallelSlots())
                    .setThreads(config.threads())
                    .setThreadsBatch(config.threads())
                    .disableMmap()
                    .disableLog());
            byte[] after;
            try {
                after = sha256(file);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            if (!MessageDigest.isEqual(copy.digest(), after)) {
                model.close();
                throw new IllegalStateException("the copy of chat model " + config.file() + " in " + config.scratchDir()
                        + " changed while it was loading; the worker cannot say which model it runs. Keep the scratch "
                        + "directory private to the worker, in the TEE's memory, and start again");
            }
            this.digest = after;
        }
        this.budget = new Semaphore(tokenBudget, true);
        AtomicInteger n = new AtomicInteger();
        this.slots = Executors.newFixedThreadPool(config.parallelSlots(), r -> {
            Thread t = new Thread(r, "chat-slot-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.loadTime = java.time.Duration.ofNanos(System.nanoTime() - started);
        LOG.info("engine.loaded model={} arch={} ctx={} slots={} template={} ms={} digest={}", config.name(),
                architecture, contextSize, config.parallelSlots(), hasTemplate,
                loadTime.toMillis(), HexFormat.of().formatHex(digest));
    }

    @Override
    public java.time.Duration loadTime() {
        return loadTime;
    }

    /** Loads the GGUF model of {@code config}; refuses a file that is not GGUF or changes while loading. */
    public static ChatEngine load(ChatModel config) {
        return new ChatEngine(config);
    }

    @Override
    public Set<String> models() {
        return Set.of(config.name());
    }

    /**
     * Tokens the request may take: its max_tokens (or the default) plus the prompt, estimated at
     * one token per 4 characters without tokenizing on the stream thread.
     */
    @Override
    public long cost(InferenceRequest request) {
        if (!(request.getTask() instanceof ChatInput chat)) {
            return 1;
        }
        long chars = 0;
        for (ChatMessage m : chat.getMessages()) {
            chars += m.getContent() == null ? 0 : m.getContent().length();
        }
        Integer max = chat.getParameters() == null ? null : chat.getParameters().getMaxTokens();
        return chars / 4 + (max != null && max > 0 ? max : DEFAULT_MAX_TOKENS);
    }

    /** SHA-256 of the GGUF file, as {@code sha256sum} prints it. */
    @Override
    public byte[] modelDigest() {
        return digest.clone();
    }

    /** Tokens of context each sequence has: prompt plus max_tokens must fit. */
    public int sequenceContext() {
        return slotContext;
    }

    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch) {
        return infer(batch, java.util.Collections.nCopies(batch.size(), TokenSink.NONE));
    }

    /** As {@link #infer(List)}, each request's text going to its sink as it is generated. */
    @Override
    public List<InferenceResponse> infer(List<InferenceRequest> batch, List<TokenSink> sinks) {
        long started = System.nanoTime();
        List<CompletableFuture<InferenceResponse>> answers = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            answers.add(submit(batch.get(i), sinks.get(i)));
        }
        List<InferenceResponse> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            InferenceRequest r = batch.get(i);
            // one request's failure is that request's error answer, not the batch's
            out.add(answers.get(i).exceptionally(e -> {
                LOG.warn("engine.request_failed model={} error={}", config.name(),
                        (e instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : e)
                                .getClass().getSimpleName());
                return error(r, ErrorCode.ENGINE_FAILURE.code(), "the chat engine failed on this request; retry it, and tell the "
                        + "operator if it keeps failing");
            }).join());
        }
        long tokens = out.stream().filter(a -> a.getOutput() instanceof ChatResult)
                .mapToLong(a -> ((ChatResult) a.getOutput()).getUsage().getCompletionTokens()).sum();
        LOG.debug("engine.batch model={} requests={} completion_tokens={} ms={}", config.name(), batch.size(), tokens,
                (System.nanoTime() - started) / 1_000_000);
        return out;
    }

    /**
     * Completes one conversation directly (no request checks beyond the parameters'), as
     * {@link #infer} does for a chat request.
     *
     * @throws IllegalArgumentException if the parameters or the context length are not acceptable
     */
    public ChatResult complete(List<ChatMessage> messages, ChatParameters parameters) {
        ensureOpen();
        Prepared p = prepare(messages, parameters);
        if (p.error != null) {
            throw new IllegalArgumentException(p.error);
        }
        budget.acquireUninterruptibly(p.cost());
        try {
            return generate(p, TokenSink.NONE);
        } finally {
            budget.release(p.cost());
        }
    }

    private CompletableFuture<InferenceResponse> submit(InferenceRequest r, TokenSink sink) {
        if (!config.name().equals(r.getModel())) {
            return CompletableFuture.completedFuture(error(r, ErrorCode.MODEL_NOT_SERVED.code(), "this engine serves the model "
                    + config.name() + "; send the request with that model name"));
        }
        if (!(r.getTask() instanceof ChatInput chat)) {
            return CompletableFuture.completedFuture(error(r, ErrorCode.UNSUPPORTED_TASK.code(), config.name()
                    + " is a chat model; send a chat request (/v1/chat/completions), or embeddings to an embeddings model"));
        }
        if (isClosed()) {
            return CompletableFuture.completedFuture(closedAnswer(r));
        }
        Prepared p;
        try {
            p = prepare(chat.getMessages(), chat.getParameters());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (p.error != null) {
            return CompletableFuture.completedFuture(error(r, ErrorCode.INVALID_REQUEST.code(), p.error));
        }
        // in order: a request waits here for room in the token budget, then for a free slot
        budget.acquireUninterruptibly(p.cost());
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    if (isClosed()) {
                        return closedAnswer(r);
                    }
                    return InferenceResponse.newBuilder().setModel(config.name()).setOutput(generate(p, sink)).setError(null)
                            .build();
                } finally {
                    budget.release(p.cost());
                }
            }, slots);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            budget.release(p.cost());
            return CompletableFuture.completedFuture(closedAnswer(r));
        }
    }

    /** A request checked and rendered, or the reason it cannot be served (never quoting it). */
    private record Prepared(String prompt, int promptTokens, int maxTokens, float temperature, float topP,
                            Integer seed, List<String> stop, String error) {
        int cost() {
            return promptTokens + maxTokens;
        }

        static Prepared refused(String why) {
            return new Prepared(null, 0, 0, 0, 0, null, List.of(), why);
        }
    }

    private Prepared prepare(List<ChatMessage> messages, ChatParameters params) {
        if (messages == null || messages.isEmpty()) {
            return Prepared.refused("the chat request has no messages; send at least one user message");
        }
        Integer maxTokens = params == null ? null : params.getMaxTokens();
        Float temperature = params == null ? null : params.getTemperature();
        Float topP = params == null ? null : params.getTopP();
        List<String> stop = params == null || params.getStop() == null ? List.of() : params.getStop();
        if (maxTokens != null && maxTokens < 1) {
            return Prepared.refused("max_tokens is " + maxTokens + "; send at least 1, or leave it out for "
                    + DEFAULT_MAX_TOKENS);
        }
        if (temperature != null && !(temperature >= 0 && temperature <= 2)) {
            return Prepared.refused("temperature is " + temperature + "; send a value from 0 (greedy) to 2");
        }
        if (topP != null && !(topP > 0 && topP <= 1)) {
            return Prepared.refused("top_p is " + topP + "; send a value above 0 and at most 1");
        }
        for (int i = 1; hasTemplate && i < messages.size(); i++) {
            if (messages.get(i).getRole() == io.sealstream.schemas.v1.ChatRole.system) {
                return Prepared.refused("message " + i + " is a system message; model " + config.name()
                        + " takes a system message only as the first message");
            }
        }
        if (stop.size() > MAX_STOP_SEQUENCES || stop.stream().anyMatch(String::isEmpty)) {
            return Prepared.refused("stop has " + stop.size() + " sequences or an empty one; send at most "
                    + MAX_STOP_SEQUENCES + " non-empty sequences");
        }
        String prompt = ChatPrompt.render(model, hasTemplate, messages);
        int promptTokens = model.encode(prompt).length + (addsBos ? 1 : 0);
        int max = maxTokens != null ? maxTokens : Math.min(DEFAULT_MAX_TOKENS, Math.max(1, slotContext - promptTokens));
        if (promptTokens + max > slotContext) {
            return Prepared.refused("the prompt has " + promptTokens + " tokens and max_tokens is " + max
                    + ", more than the " + slotContext + " tokens of context per sequence of model " + config.name()
                    + "; shorten the conversation or lower max_tokens");
        }
        Long seed = params == null ? null : params.getSeed();
        return new Prepared(prompt, promptTokens, max, temperature != null ? temperature : 1f,
                topP != null ? topP : 1f, seed == null ? null : (int) (seed & 0x7FFF_FFFFL), List.copyOf(stop), null);
    }

    /**
     * Generates the answer; the text goes to {@code sink} as it comes, held back by the length of
     * the longest stop sequence, so no text a stop sequence later cuts off is ever streamed.
     */
    private ChatResult generate(Prepared p, TokenSink sink) {
        InferenceParameters params = new InferenceParameters(p.prompt())
                .setNPredict(p.maxTokens())
                .setTemperature(p.temperature())
                .setTopP(p.topP())
                .setTopK(0)
                .setMinP(0f)
                .setRepeatPenalty(1f);
        if (p.seed() != null) {
            params.setSeed(p.seed());
        }
        StringBuilder text = new StringBuilder();
        int chunks = 0;
        FinishReason finish = null;
        int maxStop = p.stop().stream().mapToInt(String::length).max().orElse(0);
        boolean streaming = sink.wants();
        int streamed = 0;
        LlamaIterator it = model.generate(params).iterator();
        while (it.hasNext()) {
            LlamaOutput out = it.next();
            chunks++;
            int from = Math.max(0, text.length() - maxStop);
            text.append(out.text);
            int cut = firstStop(text, p.stop(), from);
            if (cut >= 0) {
                text.setLength(cut);
                it.cancel();
                finish = FinishReason.stop;
                break;
            }
            int safe = text.length() - maxStop;
            if (safe > 0 && Character.isHighSurrogate(text.charAt(safe - 1))) {
                safe--; // never cut a character in two: its halves are not text
            }
            if (streaming && safe > streamed) {
                sink.text(text.substring(streamed, safe));
                streamed = safe;
            }
        }
        if (streaming && text.length() > streamed) {
            sink.text(text.substring(streamed));
        }
        // the binding streams one chunk per generated token, then a closing chunk; llama.cpp merges
        // the tokens of a multi-byte character split over several tokens into one chunk, so where
        // re-tokenizing the text gives more tokens, that count is the better one
        int generated = finish == FinishReason.stop ? chunks : Math.max(0, chunks - 1);
        int completionTokens = Math.min(p.maxTokens(), Math.max(generated, model.encode(text.toString()).length));
        if (finish == null) {
            // from what was generated only: re-tokenizing can count more tokens than were generated
            finish = generated >= p.maxTokens() ? FinishReason.length : FinishReason.stop;
        }
        return new ChatResult(text.toString(), finish,
                new Usage(p.promptTokens(), completionTokens, p.promptTokens() + completionTokens));
    }

    private static int firstStop(CharSequence text, List<String> stops, int from) {
        int best = -1;
        for (String s : stops) {
            int at = text.toString().indexOf(s, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private void ensureOpen() {
        if (isClosed()) {
            throw new IllegalStateException("the chat engine of " + config.name() + " is closed");
        }
    }

    private InferenceResponse closedAnswer(InferenceRequest r) {
        return error(r, ErrorCode.ENGINE_CLOSED.code(), "the chat engine is shutting down; the request will be answered after the "
                + "worker restarts");
    }

    private InferenceResponse error(InferenceRequest r, String code, String message) {
        return InferenceResponse.newBuilder().setModel(r.getModel()).setOutput(null)
                .setError(new InferenceError(code, message)).build();
    }

    private static byte[] sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return sha.digest();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chat model " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Stops taking requests, lets the sequences being decoded finish (queued ones are answered
     * {@code engine_closed} at once), then frees the model; a second call does nothing. If decoding
     * does not finish within {@value #CLOSE_WAIT_SECONDS} s the model is left allocated rather than
     * freed under a running sequence.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        slots.shutdown();
        boolean idle;
        try {
            idle = slots.awaitTermination(CLOSE_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        if (!idle) {
            LOG.warn("engine.close_timeout model={} seconds={}", config.name(), CLOSE_WAIT_SECONDS);
            return;
        }
        model.close();
        LOG.info("engine.closed model={} llama_warnings={}", config.name(), LlamaRuntime.warnings());
    }

}
