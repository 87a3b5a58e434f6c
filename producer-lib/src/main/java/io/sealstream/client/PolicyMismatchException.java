package io.sealstream.client;

/** The key broker runs other code than pinned, or serves a policy other than the one pinned. */
public final class PolicyMismatchException extends SealstreamException {
    PolicyMismatchException(String message) {
        super(message, null);
    }
}
