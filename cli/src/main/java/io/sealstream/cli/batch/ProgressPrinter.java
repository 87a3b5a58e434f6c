package io.sealstream.cli.batch;

import io.sealstream.client.batch.BatchProgress;
import java.io.PrintStream;
import java.time.Duration;

/**
 * Prints a batch job's progress: on a terminal a bar redrawn in place, otherwise (a pipe, a CI
 * log) a plain line every {@code every}; never any text of a request.
 */
final class ProgressPrinter implements BatchProgress.Listener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private final Duration every;
    private long lastLine;

    ProgressPrinter(PrintStream out, boolean terminal, Duration every) {
        this.out = out;
        this.terminal = terminal;
        this.every = every;
    }

    @Override
    public synchronized void update(BatchProgress p, boolean last) {
        if (terminal) {
            out.print("\r" + bar(p) + (last ? System.lineSeparator() : ""));
            out.flush();
            return;
        }
        long now = System.nanoTime();
        if (last || now - lastLine >= every.toNanos()) {
            lastLine = now;
            out.println(line(p));
        }
    }

    static String bar(BatchProgress p) {
        double f = p.total() == 0 ? 1 : Math.min(1, (double) p.done() / p.total());
        int filled = (int) Math.round(f * WIDTH);
        return String.format("[%s%s] %3.0f%% %s", "#".repeat(filled), ".".repeat(WIDTH - filled), f * 100, counts(p));
    }

    static String line(BatchProgress p) {
        return "batch progress: " + counts(p);
    }

    private static String counts(BatchProgress p) {
        return String.format("sent %d, answered %d, failed %d, done %d/%d, %.1f lines/s, ETA %s", p.sent(), p.answered(),
                p.failed(), p.done(), p.total(), p.rate(), p.eta().map(ProgressPrinter::duration).orElse("-"));
    }

    static String duration(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }
}
