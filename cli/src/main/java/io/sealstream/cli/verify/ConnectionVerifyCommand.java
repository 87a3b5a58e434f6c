package io.sealstream.cli.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.client.AnswerProvenance;
import io.sealstream.client.ConnectionFile;
import io.sealstream.client.SealstreamException;
import io.sealstream.client.VerifiedTopic;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.transparency.LogEntry;
import io.sealstream.transparency.LogMonitor;
import io.sealstream.transparency.SignedTreeHead;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream verify --connection FILE [--output OUT.jsonl]}: checks the key broker exactly as
 * a client of FILE does before it sends anything and prints what it proved (the broker's evidence
 * claims, the policy with its log entry and age, the log's head); audits the whole transparency log
 * (every entry, rebuilt into the tree the head signs); shows what changed if the broker enforces
 * another policy than the pinned one; and, for a batch output file, which attested builds and
 * models answered how many lines. Exit 0 when the broker passes every check, 1 when it does not,
 * 2 for unusable arguments.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check the key broker as a client of FILE does, audit its transparency log, and say which "
                + "attested workers answered a batch output; exit 0 only if the broker passes every check.")
public final class ConnectionVerifyCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--connection", required = true, description = "The client's connection file.")
    Path connection;

    @Option(names = "--output", description = "A batch output file of 'sealstream submit' to account for.")
    Path output;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        ConnectionFile conn;
        LogMonitor monitor;
        try {
            conn = ConnectionFile.read(connection);
            monitor = conn.logTrust().monitor(Clock.systemUTC());
        } catch (RuntimeException e) {
            System.err.println("sealstream verify: " + e.getMessage());
            return 2;
        }
        out.println("key broker    " + conn.keyBrokerUrl());
        int status = 0;
        try {
            VerifiedTopic v = conn.verifyKeyBroker();
            printBroker(out, v);
        } catch (SealstreamException e) {
            out.println("  REFUSED     " + e.getMessage());
            status = 1;
        }
        KeyBrokerClient broker = new KeyBrokerClient(conn.keyBrokerUrl(), Duration.ofSeconds(10));
        List<LogEntry> audited = null;
        try {
            List<LogEntry> entries = monitor.audit(broker.logSource());
            audited = entries;
            SignedTreeHead head = monitor.lastHead().orElseThrow();
            printLog(out, conn, head, entries);
        } catch (LogMonitor.LogVerificationException e) {
            out.println("  log REFUSED " + e.getMessage());
            status = 1;
        } catch (IOException e) {
            out.println("  log         unreadable: " + e.getMessage());
            status = 1;
        }
        if (output != null) {
            try {
                if (printOutput(out, output, audited) > 0) {
                    status = 1;
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("sealstream verify: cannot read " + output + ": " + e.getMessage());
                return 2;
            }
        }
        return status;
    }

    private static void printBroker(PrintStream out, VerifiedTopic v) {
        AttestedClaims c = v.brokerClaims();
        out.println("  evidence    " + c.tee().id() + (c.simulated() ? " (simulated, development root)" : "")
                + ", measurement " + c.measurementHex());
        if (!c.tcb().isEmpty()) {
            out.println("  tcb         " + new TreeMap<>(c.tcb()) + c.tcbStatus().map(s -> ", status " + s).orElse(""));
        }
        out.println("  policy      " + v.policy().id() + " ('" + v.policy().name() + "')");
        v.log().ifPresent(log -> {
            Duration age = Duration.between(log.policyLoggedAt(), Instant.now());
            out.println("  in the log  policy: entry " + log.policyIndex() + ", since " + log.policyLoggedAt() + " ("
                    + human(age) + "); broker measurement: entry " + log.measurementIndex());
        });
        out.println("  verified    evidence, binding of nonce, keys, policy, custody and log key; pins; custody; "
                + "policy rules for the broker" + (v.log().isPresent() ? "; inclusion in the log" : ""));
    }

    private static void printLog(PrintStream out, ConnectionFile conn, SignedTreeHead head, List<LogEntry> entries) {
        out.println("log           " + head.size() + " entries, head signed " + head.timestamp() + ", root "
                + HexFormat.of().formatHex(head.rootHash()).substring(0, 16) + "…");
        out.println("  audited     every entry read and rebuilt into the tree the head signs; consistent with the head "
                + "kept in " + conn.logHeadFile());
        out.println("  log key     sha256 " + HexFormat.of().formatHex(ReportDataBinding.sha256(Base64.getDecoder().decode(conn.logKey())))
                .substring(0, 16) + "… (pinned)");
        Map<String, Integer> byType = new TreeMap<>();
        entries.forEach(e -> byType.merge(e.type().id(), 1, Integer::sum));
        out.println("  entries     " + byType);
        LoggedPolicies policies = LoggedPolicies.of(entries);
        for (LoggedPolicies.Logged p : policies.all()) {
            out.println("  policy      " + p.id() + " since " + p.entry().at() + (p.id().equals(conn.policyId())
                    ? "  <- pinned" : ""));
        }
        policies.changeFrom(conn.policyId()).ifPresent(c -> {
            out.println("  NEWER       the log's newest policy is " + c.newest().id() + ", not the pinned "
                    + conn.policyId() + "; review it ('sealstream policy diff'), then pin it if you accept it");
            if (c.changes() == null) {
                out.println("    the pinned policy is not in the log: nothing to compare it with");
            } else {
                c.changes().forEach(change -> out.println("    " + change));
            }
        });
    }

    /**
     * Counts the answered lines of a batch output by the attested build and model that answered
     * them, each proven against the audited log (the {@code in_log} the file says is not taken on
     * trust); returns how many lines the log does not prove.
     */
    private static int printOutput(PrintStream out, Path file, List<LogEntry> audited) throws IOException {
        Map<String, Integer> byWorker = new TreeMap<>();
        int answered = 0;
        int without = 0;
        int unproven = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                if (n.path("response").isNull() || n.path("response").isMissingNode()) {
                    continue;
                }
                answered++;
                JsonNode p = n.path("sealstream_provenance");
                if (p.isMissingNode() || p.isNull()) {
                    without++;
                    continue;
                }
                AnswerProvenance claimed = new AnswerProvenance(p.path("lease_id").asText(), p.path("lease_log_index")
                        .asLong(-1), p.path("tee").asText(), p.path("measurement").asText(), p.path("model_digest")
                        .asText(), false);
                long i = claimed.leaseLogIndex();
                boolean proven = audited != null && i >= 0 && i < audited.size() && claimed.isStatedBy(audited.get((int) i));
                if (!proven) {
                    unproven++;
                    continue;
                }
                byWorker.merge(claimed.tee() + " measurement " + claimed.measurement() + " model " + claimed.modelDigest(),
                        1, Integer::sum);
            }
        }
        out.println("batch output  " + file + ": " + answered + " lines answered");
        byWorker.forEach((who, n) -> out.println("  " + n + " by " + who));
        out.println("  without provenance " + without + ", lease not proven in the audited log " + unproven
                + (audited == null ? " (the log could not be audited)" : ""));
        return unproven;
    }

    private static String human(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s >= 86_400 ? s / 86_400 + " d " + s % 86_400 / 3600 + " h"
                : s >= 3600 ? s / 3600 + " h " + s % 3600 / 60 + " min" : s / 60 + " min " + s % 60 + " s";
    }

}
