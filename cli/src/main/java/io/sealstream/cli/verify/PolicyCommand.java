package io.sealstream.cli.verify;

import io.sealstream.client.ConnectionFile;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.transparency.LogEntry;
import io.sealstream.transparency.LogMonitor;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream policy diff --connection FILE}: what the newest policy in the key broker's
 * transparency log changes against the one FILE pins, read from the audited log, so a client sees
 * a policy change before it accepts it. Exit 0 when the newest is the pinned one, 1 when a newer
 * one differs (the changes printed), 2 when the log cannot be checked.
 */
@Command(name = "policy", mixinStandardHelpOptions = true, subcommands = PolicyCommand.Diff.class,
        description = "Policies as the key broker's transparency log holds them.")
public final class PolicyCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = "Show what the newest policy in the log revokes (-), admits (+) and changes (~) against "
                    + "the pinned one; exit 0 only if the pinned policy is the newest.")
    static final class Diff implements Callable<Integer> {
        @Option(names = "--connection", required = true, description = "The client's connection file.")
        Path connection;

        @Override
        public Integer call() {
            PrintStream out = System.out;
            ConnectionFile conn;
            List<LogEntry> audited;
            try {
                conn = ConnectionFile.read(connection);
                LogMonitor monitor = conn.logTrust().monitor(Clock.systemUTC());
                audited = monitor.audit(new KeyBrokerClient(conn.keyBrokerUrl(), Duration.ofSeconds(10)).logSource());
            } catch (LogMonitor.LogVerificationException e) {
                System.err.println("sealstream policy diff: the key broker's transparency log is refused: " + e.getMessage());
                return 2;
            } catch (IOException | RuntimeException e) {
                System.err.println("sealstream policy diff: " + e.getMessage());
                return 2;
            }
            LoggedPolicies policies = LoggedPolicies.of(audited);
            Optional<LoggedPolicies.Change> change = policies.changeFrom(conn.policyId());
            if (change.isEmpty()) {
                out.println("the pinned policy " + conn.policyId() + " is the newest in the log"
                        + policies.latest(conn.policyId()).map(p -> " (entry " + p.index() + ", since " + p.entry().at() + ")")
                                .orElse(" (the log holds no policy yet)"));
                return 0;
            }
            LoggedPolicies.Change c = change.get();
            out.println("pinned  " + conn.policyId() + (c.pinned() == null ? " (not in the log)"
                    : " (entry " + c.pinned().index() + ", since " + c.pinned().entry().at() + ")"));
            out.println("newest  " + c.newest().id() + " (entry " + c.newest().index() + ", since " + c.newest().entry().at()
                    + ")");
            if (c.changes() == null) {
                out.println("the pinned policy is not in the log: nothing to compare the newest with");
            } else {
                c.changes().forEach(out::println);
                out.println(c.changes().size() + " changes; pin " + c.newest().id() + " in the connection file if you "
                        + "accept them");
            }
            return 1;
        }
    }
}
