package io.sealstream.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on 127.0.0.1, for servers of the dev stack that must know their port up front. */
public final class LoopbackPorts {
    private LoopbackPorts() {
    }

    /**
     * A port that was free a moment ago. Another process can still take it before the caller
     * binds, so callers retry on a bind failure.
     */
    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on the loopback interface", e);
        }
    }
}
