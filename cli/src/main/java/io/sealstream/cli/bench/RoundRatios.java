package io.sealstream.cli.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Pipeline rounds against the engine, each compared with the engine runs just before and after
 * it: this machine's speed drifts by a fifth within a minute, so one pair would measure the drift.
 * The summary is the median round and the range.
 */
final class RoundRatios {
    private final List<Double> ratios = new ArrayList<>();

    /** One round: the pipeline's rate over the mean of the engine's rates around it. */
    void add(double pipeline, double engineBefore, double engineAfter) {
        ratios.add(pipeline / ((engineBefore + engineAfter) / 2));
    }

    int rounds() {
        return ratios.size();
    }

    double median() {
        return sorted().get(ratios.size() / 2);
    }

    double min() {
        return sorted().get(0);
    }

    double max() {
        return sorted().get(ratios.size() - 1);
    }

    private List<Double> sorted() {
        return ratios.stream().sorted().toList();
    }
}
