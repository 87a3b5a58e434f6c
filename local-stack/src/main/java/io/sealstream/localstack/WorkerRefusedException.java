package io.sealstream.localstack;

import io.sealstream.keybroker.api.KeyBrokerException;

/** The key broker refused a worker of the stack: it holds no keys and never started consuming. */
public final class WorkerRefusedException extends RuntimeException {
    private final KeyBrokerException refusal;

    WorkerRefusedException(String workerId, KeyBrokerException refusal) {
        super("worker " + workerId + " was refused by the key broker: " + refusal.getMessage(), refusal);
        this.refusal = refusal;
    }

    /** The key broker's answer: status 401/403 and the code. */
    public KeyBrokerException refusal() {
        return refusal;
    }
}
