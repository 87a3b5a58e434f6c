package io.sealstream.keybroker.custody;

import io.sealstream.keybroker.api.CustodyMode;
import java.util.Objects;

/**
 * Where a key broker gets its root secret when it starts; one of three, chosen explicitly (there
 * is no default). See docs/key-broker.md, "Custody".
 */
public sealed interface Custody {

    CustodyMode mode();

    /**
     * The root in {@code root.dev} in the data directory, made at first start. Anyone who reads the
     * data directory reads every key: for the simulated stack only.
     */
    static Custody insecureDevFile() {
        return new DevFile();
    }

    /**
     * The root from the running replica at {@code peerUrl}, sealed to this replica's TEE key after
     * each verified the other's evidence under the same policy. The replicas share the data directory.
     */
    static Custody peer(String peerUrl) {
        return new Peer(Objects.requireNonNull(peerUrl, "peer URL"));
    }

    /**
     * The root escrowed to the owner's recovery key ({@code key-broker.recovery-key} in the policy):
     * made at first start; after a restart the broker waits for the owner's
     * {@code sealstream key-broker recover}.
     */
    static Custody recovery() {
        return new Recovery();
    }

    /** See {@link #insecureDevFile()}. */
    record DevFile() implements Custody {
        @Override
        public CustodyMode mode() {
            return CustodyMode.DEV;
        }
    }

    /** See {@link #peer(String)}. */
    record Peer(String peerUrl) implements Custody {
        @Override
        public CustodyMode mode() {
            return CustodyMode.PEER;
        }
    }

    /** See {@link #recovery()}. */
    record Recovery() implements Custody {
        @Override
        public CustodyMode mode() {
            return CustodyMode.RECOVERY;
        }
    }
}
