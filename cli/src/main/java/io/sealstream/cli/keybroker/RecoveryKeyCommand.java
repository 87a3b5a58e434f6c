package io.sealstream.cli.keybroker;

import io.sealstream.envelope.SealingKeyPair;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream key-broker recovery-key}: makes the owner's recovery key pair, writes the
 * private half to a new owner-only file and prints the policy lines that name the public half.
 */
@Command(name = "recovery-key", mixinStandardHelpOptions = true,
        description = "Make the owner's recovery key: the private half to --out (mode 600; keep it offline), the "
                + "public half printed as the policy's key-broker.recovery-key.")
public final class RecoveryKeyCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "New file for the private key; never overwritten.")
    Path out;

    @Override
    public Integer call() throws Exception {
        SealingKeyPair key = SealingKeyPair.generate();
        try {
            key.writePrivate(out);
        } catch (FileAlreadyExistsException e) {
            System.err.println(out + " exists; a recovery key is never overwritten (it may be the only way to a "
                    + "deployment's root). Choose another --out");
            return 2;
        }
        System.out.println("Recovery key written to " + out + " (mode 600). Keep it offline; it opens the escrow of "
                + "every key broker whose policy names it.");
        System.out.println("Add to the policy:");
        System.out.println("key-broker:");
        System.out.println("  recovery-key: " + Base64.getEncoder().encodeToString(key.publicKey()));
        return 0;
    }
}
