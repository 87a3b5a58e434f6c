package io.sealstream.cli.attestation;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.policy.PolicyDiff;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code sealstream attestation policy-diff FROM TO}: what a new policy revokes, admits and
 * changes, read from the canonical forms; exit 0 when they are the same policy, 1 when they differ.
 */
@Command(name = "policy-diff", mixinStandardHelpOptions = true,
        description = "Show what a policy change revokes (-), admits (+) and changes (~); exit 0 only if nothing changes.")
public final class PolicyDiffCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "The policy in force (YAML).")
    Path from;

    @Parameters(index = "1", description = "The proposed policy (YAML).")
    Path to;

    @Override
    public Integer call() {
        AttestationPolicy before;
        AttestationPolicy after;
        try {
            before = AttestationPolicy.fromFile(from);
            after = AttestationPolicy.fromFile(to);
        } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
            System.err.println("sealstream attestation policy-diff: " + e.getMessage());
            return 2;
        }
        System.out.println("policy " + before.id() + " -> " + after.id());
        List<PolicyDiff.Change> changes = PolicyDiff.between(before, after);
        changes.forEach(System.out::println);
        System.out.println(changes.isEmpty() ? "no change" : changes.size() + " changes");
        return changes.isEmpty() ? 0 : 1;
    }
}
