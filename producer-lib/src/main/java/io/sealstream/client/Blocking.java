package io.sealstream.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** The blocking conveniences: wait for a future and rethrow its {@link SealstreamException} as is. */
final class Blocking {
    private Blocking() {
    }

    static <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + what, e);
        } catch (ExecutionException | CompletionException e) {
            if (e.getCause() instanceof SealstreamException s) {
                throw s;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        }
    }
}
