package io.sealstream.cli.bench;

import io.sealstream.client.SealstreamClient;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Drives a {@link SealstreamClient} for the pipeline benchmark: closed loop (a fixed number of
 * requests in flight, for capacity) or open loop (a fixed arrival rate, for latency: each
 * latency is measured from the moment the request was due, so a stalled sender cannot hide
 * queueing). Requests are embeddings of one text each.
 */
final class Load {
    /** Name prefix of the threads that call the SDK (so CPU breakdowns can find them). */
    static final String THREAD_PREFIX = "bench-load";

    /** CPU time and allocated bytes of a sender thread, taken just before it ended. */
    record ThreadUse(long cpuNanos, long allocatedBytes) {
        static ThreadUse ofCurrentThread() {
            var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            return new ThreadUse(mx.getCurrentThreadCpuTime(), mx.getThreadAllocatedBytes(Thread.currentThread().getId()));
        }
    }

    /** Outcome of one run; {@code sender} is the sending thread's use. */
    record Outcome(long answered, long failed, double seconds, long[] latencyNanos, ThreadUse sender) {
        double perSecond() {
            return answered / seconds;
        }

        /** The {@code q} quantile of the latencies in ms (0 < q <= 1). */
        double latencyMs(double q) {
            if (latencyNanos.length == 0) {
                return Double.NaN;
            }
            int i = (int) Math.min(latencyNanos.length - 1, Math.ceil(q * latencyNanos.length) - 1);
            return latencyNanos[Math.max(0, i)] / 1e6;
        }
    }

    private final SealstreamClient client;
    private final String model;
    private final IntFunction<String> text;

    Load(SealstreamClient client, String model, IntFunction<String> text) {
        this.client = client;
        this.model = model;
        this.text = text;
    }

    /**
     * {@code inFlight} requests in flight until {@code total} were sent (or {@code seconds} passed,
     * if {@code total} is 0); waits for every answer.
     */
    Outcome closed(int inFlight, long total, double seconds) throws InterruptedException {
        Semaphore slots = new Semaphore(inFlight);
        AtomicLong answered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long[] latencies = new long[(int) Math.min(total > 0 ? total : 4_000_000, 4_000_000)];
        AtomicLong recorded = new AtomicLong();
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        ThreadUse[] use = new ThreadUse[1];
        Thread sender = new Thread(() -> {
            int i = 0;
            try {
                while (total > 0 ? i < total : System.nanoTime() < end) {
                    slots.acquire();
                    long sent = System.nanoTime();
                    send(i++).whenComplete((r, e) -> {
                        record(latencies, recorded, System.nanoTime() - sent);
                        (e == null ? answered : failed).incrementAndGet();
                        slots.release();
                    });
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            use[0] = ThreadUse.ofCurrentThread();
        }, THREAD_PREFIX + "-closed");
        sender.start();
        sender.join();
        slots.acquire(inFlight);
        double took = (System.nanoTime() - t0) / 1e9;
        return new Outcome(answered.get(), failed.get(), took, sorted(latencies, recorded), use[0]);
    }

    /** {@code rate} requests per second for {@code seconds}; waits for every answer (at most 60 s more). */
    Outcome open(double rate, double seconds) throws InterruptedException {
        long count = (long) (rate * seconds);
        long[] latencies = new long[(int) Math.min(count, 4_000_000)];
        AtomicLong recorded = new AtomicLong();
        AtomicLong answered = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        long interval = (long) (1e9 / rate);
        long t0 = System.nanoTime();
        ThreadUse[] use = new ThreadUse[1];
        Thread sender = new Thread(() -> {
            for (long i = 0; i < count; i++) {
                long due = t0 + i * interval;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                send((int) i).whenComplete((r, e) -> {
                    record(latencies, recorded, System.nanoTime() - due);
                    (e == null ? answered : failed).incrementAndGet();
                });
            }
            use[0] = ThreadUse.ofCurrentThread();
        }, THREAD_PREFIX + "-open");
        sender.start();
        sender.join();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (answered.get() + failed.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        double took = (System.nanoTime() - t0) / 1e9;
        return new Outcome(answered.get(), failed.get() + count - answered.get() - failed.get(), took,
                sorted(latencies, recorded), use[0]);
    }

    private CompletableFuture<?> send(int i) {
        try {
            return client.embeddings().create(model, List.of(text.apply(i)));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private static void record(long[] latencies, AtomicLong recorded, long nanos) {
        long slot = recorded.getAndIncrement();
        if (slot < latencies.length) {
            latencies[(int) slot] = nanos;
        }
    }

    private static long[] sorted(long[] latencies, AtomicLong recorded) {
        long[] kept = Arrays.copyOf(latencies, (int) Math.min(recorded.get(), latencies.length));
        Arrays.sort(kept);
        return kept;
    }
}
