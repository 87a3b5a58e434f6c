package io.sealstream.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuBreakdownTest {

    @Test
    void aCallerThreadThatEndedInTheWindowCountsWithTheUseItReportedAndIsSplitByItsSamples() throws Exception {
        CpuBreakdown cpu = new CpuBreakdown(Load.THREAD_PREFIX, -1, Duration.ofMillis(10));
        cpu.start();
        Load.ThreadUse[] use = new Load.ThreadUse[1];
        Thread caller = new Thread(() -> {
            burn(300);
            use[0] = Load.ThreadUse.ofCurrentThread();
        }, Load.THREAD_PREFIX + "-test");
        caller.start();
        caller.join();

        CpuBreakdown.Result result = cpu.stop(List.of(use[0]));

        double client = result.shares().stream().filter(s -> s.component().startsWith("client:"))
                .mapToDouble(CpuBreakdown.Share::cpuSeconds).sum();
        assertThat(client).isGreaterThanOrEqualTo(use[0].cpuNanos() / 1e9 * 0.99).isGreaterThan(0.2);
        assertThat(result.shares()).extracting(CpuBreakdown.Share::component)
                .doesNotContain("client: seal and produce (caller threads)"); // split by its samples instead
        assertThat(result.totalCpuSeconds()).isGreaterThanOrEqualTo(client);
    }

    @Test
    void aLiveThreadsCpuGoesToTheComponentItsNameNames() throws Exception {
        CpuBreakdown cpu = new CpuBreakdown(Load.THREAD_PREFIX, -1, Duration.ZERO);
        Object stop = new Object();
        boolean[] done = {false};
        Thread inference = new Thread(() -> {
            burn(300);
            synchronized (stop) {
                while (!done[0]) {
                    try {
                        stop.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }, "sealstream-inference-test");
        cpu.start();
        inference.start();
        while (ManagementFactory.getThreadMXBean().getThreadCpuTime(inference.getId()) < 250_000_000L) {
            Thread.sleep(20);
        }

        CpuBreakdown.Result result = cpu.stop(List.of());
        synchronized (stop) {
            done[0] = true;
            stop.notifyAll();
        }
        inference.join();

        assertThat(result.shares()).filteredOn(s -> s.component().equals("worker: inference thread (engine)"))
                .singleElement().satisfies(s -> assertThat(s.cpuSeconds()).isGreaterThanOrEqualTo(0.25));
    }

    @Test
    void latencyQuantilesAreTakenFromTheSortedSamples() {
        long[] nanos = new long[100];
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] = (i + 1) * 1_000_000L;
        }
        Load.Outcome outcome = new Load.Outcome(100, 0, 1.0, nanos, new Load.ThreadUse(0, 0));

        assertThat(outcome.latencyMs(0.5)).isEqualTo(50.0);
        assertThat(outcome.latencyMs(0.99)).isEqualTo(99.0);
        assertThat(outcome.latencyMs(1.0)).isEqualTo(100.0);
        assertThat(outcome.perSecond()).isEqualTo(100.0);
    }

    private static void burn(long millis) {
        long end = System.nanoTime() + millis * 1_000_000L;
        long x = 0;
        while (System.nanoTime() < end) {
            x += Long.numberOfTrailingZeros(x + System.nanoTime());
        }
        if (x == 42) {
            System.out.print("");
        }
    }
}
