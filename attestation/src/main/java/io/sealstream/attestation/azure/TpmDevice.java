package io.sealstream.attestation.azure;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A TPM 2.0 that executes one marshalled command at a time and returns its response: the kernel's
 * resource manager ({@code /dev/tpmrm0}) in a guest, or a test's TPM.
 */
public interface TpmDevice extends Closeable {
    /** The kernel's TPM resource manager, which several processes may share. */
    Path RESOURCE_MANAGER = Path.of("/dev/tpmrm0");

    /** Sends {@code command} and returns the TPM's whole response. */
    byte[] execute(byte[] command) throws IOException;

    /**
     * Opens a TPM character device: a command is one write, its response one read (TPM 2.0 device
     * interface of the Linux kernel).
     */
    static TpmDevice open(Path device) throws IOException {
        RandomAccessFile file = new RandomAccessFile(device.toFile(), "rw");
        return new TpmDevice() {
            private final byte[] buffer = new byte[4096]; // TPM_BUFSIZE of the kernel driver

            @Override
            public synchronized byte[] execute(byte[] command) throws IOException {
                file.write(command);
                int n = file.read(buffer);
                if (n < 10) {
                    throw new IOException("the TPM at " + device + " answered " + n + " bytes, less than a response header");
                }
                return Arrays.copyOf(buffer, n);
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }
}
