package io.sealstream.worker;

import io.sealstream.metrics.Meters;
import io.sealstream.metrics.SealstreamMeter;
import io.sealstream.schemas.ErrorCode;
import io.sealstream.schemas.v1.ChatResult;
import io.sealstream.schemas.v1.EmbeddingsResult;
import io.sealstream.schemas.v1.InferenceError;
import io.sealstream.schemas.v1.InferenceRequest;
import io.sealstream.schemas.v1.InferenceResponse;
import io.sealstream.streams.BatchHandler;
import io.sealstream.worker.engine.InferenceEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * The worker's {@link BatchHandler}: splits a batch by requested model, runs each part on its
 * engine as one batch, and puts the answers back in request order. A request for a model this
 * worker does not serve gets a {@code model_not_served} error naming the models it does serve.
 */
final class EngineRouter implements BatchHandler {

    private final Map<String, InferenceEngine> byModel = new LinkedHashMap<>();
    /** Per served model: items computed, prompt tokens, completion tokens (read by the engine meters). */
    private final Map<String, LongAdder[]> counts = new LinkedHashMap<>();

    EngineRouter(List<InferenceEngine> engines) {
        for (InferenceEngine e : engines) {
            for (String model : e.models()) {
                if (byModel.putIfAbsent(model, e) != null) {
                    throw new IllegalArgumentException("two engines serve model '" + model + "'");
                }
                counts.put(model, new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()});
            }
        }
    }

    @Override
    public List<InferenceResponse> handle(List<InferenceRequest> batch) {
        return handle(batch, java.util.Collections.nCopies(batch.size(), io.sealstream.streams.TokenSink.NONE));
    }

    @Override
    public List<InferenceResponse> handle(List<InferenceRequest> batch, List<io.sealstream.streams.TokenSink> sinks) {
        InferenceResponse[] out = new InferenceResponse[batch.size()];
        Map<InferenceEngine, List<Integer>> parts = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            InferenceEngine engine = byModel.get(batch.get(i).getModel());
            if (engine == null) {
                out[i] = InferenceResponse.newBuilder().setModel(batch.get(i).getModel()).setOutput(null)
                        .setError(new InferenceError(ErrorCode.MODEL_NOT_SERVED.code(), "this worker serves " + servedModels()
                                + "; send the request with one of those model names")).build();
            } else {
                parts.computeIfAbsent(engine, k -> new ArrayList<>()).add(i);
            }
        }
        for (Map.Entry<InferenceEngine, List<Integer>> part : parts.entrySet()) {
            List<InferenceRequest> requests = part.getValue().stream().map(batch::get).toList();
            List<InferenceResponse> answers = part.getKey().infer(requests,
                    part.getValue().stream().map(sinks::get).toList());
            if (answers.size() != requests.size()) {
                throw new IllegalStateException("engine " + part.getKey().models() + " answered " + answers.size()
                        + " of " + requests.size() + " requests");
            }
            for (int j = 0; j < answers.size(); j++) {
                out[part.getValue().get(j)] = answers.get(j);
            }
        }
        // counted once the whole batch answered: a batch that fails part-way is run again one by one
        for (int i = 0; i < out.length; i++) {
            count(batch.get(i).getModel(), out[i]);
        }
        return Arrays.asList(out);
    }

    /** The engine's own cost of the request; a request for no served model costs one (it is answered at once). */
    @Override
    public long cost(InferenceRequest request) {
        InferenceEngine engine = byModel.get(request.getModel());
        return engine == null ? 1 : engine.cost(request);
    }

    @Override
    public long maxAnswerBytes(InferenceRequest request) {
        InferenceEngine engine = byModel.get(request.getModel());
        return engine == null ? 0 : engine.maxAnswerBytes(request);
    }

    /** Counts an answer of a served model: its items and its usage's tokens. */
    private void count(String model, InferenceResponse answer) {
        LongAdder[] c = counts.get(model);
        if (answer == null || c == null) {
            return;
        }
        if (answer.getOutput() instanceof EmbeddingsResult r) {
            c[0].add(r.getData().size());
            c[1].add(r.getUsage().getPromptTokens());
        } else if (answer.getOutput() instanceof ChatResult r) {
            c[0].increment();
            c[1].add(r.getUsage().getPromptTokens());
            c[2].add(r.getUsage().getCompletionTokens());
        }
    }

    /** Binds the engines' item and token counts, one series per served model. */
    void bindTo(Meters meters) {
        counts.forEach((model, c) -> {
            String label = Meters.label(model);
            meters.functionCounter(SealstreamMeter.ENGINE_ITEMS, c[0], LongAdder::doubleValue, label);
            meters.functionCounter(SealstreamMeter.ENGINE_TOKENS, c[1], LongAdder::doubleValue, label, "prompt");
            meters.functionCounter(SealstreamMeter.ENGINE_TOKENS, c[2], LongAdder::doubleValue, label, "completion");
        });
    }

    /** The served model names, sorted. */
    List<String> servedModels() {
        return List.copyOf(new TreeSet<>(byModel.keySet()));
    }
}
