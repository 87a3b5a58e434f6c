package io.sealstream.cli.bench;

import java.util.Map;
import java.util.TreeMap;

/**
 * What one fault scenario did to the pipeline, counted on the raw committed topics (not on the
 * client's dedup): normal requests sent, answered, lost (no committed answer) and duplicated (more
 * than one); dead letters by reason and encrypted errors by code over the whole run; stream thread
 * replacements in the workers; hostile records sent and those not ending in exactly one expected
 * way; the p99 of client-side latency while the fault happened; how the worker processes that
 * were stopped exited (by {@link io.sealstream.service.ServiceExit} name, or {@code status_N}).
 */
public record FaultReport(String scenario, long seed, int requests, int answered, int lost, int duplicated,
                          Map<String, Integer> deadLetters, Map<String, Integer> errors, int threadReplacements,
                          int hostile, int hostileUnaccounted, double p99Millis, double seconds,
                          Map<String, Integer> workerExits) {

    public FaultReport {
        deadLetters = Map.copyOf(new TreeMap<>(deadLetters));
        errors = Map.copyOf(new TreeMap<>(errors));
        workerExits = Map.copyOf(new TreeMap<>(workerExits));
    }

    /** The header of {@link #row()}. */
    public static String header() {
        return String.format("%-18s %9s %9s %6s %6s %8s %7s %8s %9s  %-40s %-30s %s", "scenario", "requests", "answered",
                "lost", "dup", "hostile", "unacct", "threads", "p99 ms", "dead letters", "errors", "worker exits");
    }

    /** One line of the table {@code sealstream bench faults} prints. */
    public String row() {
        return String.format("%-18s %9d %9d %6d %6d %8d %7d %8d %9.1f  %-40s %-30s %s", scenario, requests, answered, lost,
                duplicated, hostile, hostileUnaccounted, threadReplacements, p99Millis, format(deadLetters),
                format(errors), format(workerExits));
    }

    private static String format(Map<String, Integer> counts) {
        if (counts.isEmpty()) {
            return "-";
        }
        StringBuilder out = new StringBuilder();
        new TreeMap<>(counts).forEach((k, v) -> out.append(out.length() == 0 ? "" : " ").append(k).append('=').append(v));
        return out.toString();
    }
}
