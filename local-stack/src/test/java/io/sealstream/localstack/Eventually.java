package io.sealstream.localstack;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition on in-process state that has no readiness endpoint (a worker dropping its
 * keys, a proxy counting replays): checked every 100 ms until it holds or {@code limit} passes.
 */
public final class Eventually {
    private Eventually() {
    }

    /** Whether {@code condition} held within {@code limit}. */
    public static boolean holds(Duration limit, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}
