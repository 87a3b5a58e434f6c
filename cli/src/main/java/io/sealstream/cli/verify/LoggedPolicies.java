package io.sealstream.cli.verify;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.policy.PolicyDiff;
import io.sealstream.transparency.LogEntry;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The policy entries of an audited transparency log, in log order, and what the newest changes
 * against the one a client pinned: how a policy change appears to a client before it accepts it.
 */
record LoggedPolicies(List<Logged> all) {

    /** A policy entry and where the log holds it. */
    record Logged(long index, LogEntry entry) {
        String id() {
            return entry.fields().get("policy_id");
        }

        /** The logged document, parsed (its id is the SHA-256 of the canonical form it is). */
        AttestationPolicy policy() {
            return AttestationPolicy.parse(new String(Base64.getDecoder().decode(entry.fields().get("policy")),
                    StandardCharsets.US_ASCII));
        }
    }

    static LoggedPolicies of(List<LogEntry> audited) {
        List<Logged> out = new java.util.ArrayList<>();
        for (int i = 0; i < audited.size(); i++) {
            if (audited.get(i).type() == LogEntry.Type.POLICY) {
                out.add(new Logged(i, audited.get(i)));
            }
        }
        return new LoggedPolicies(List.copyOf(out));
    }

    Optional<Logged> newest() {
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** The latest entry of policy {@code id}, if the log holds it. */
    Optional<Logged> latest(String id) {
        return all.stream().filter(p -> p.id().equals(id)).reduce((a, b) -> b);
    }

    /**
     * What the newest policy changes against {@code pinnedId}: empty when the newest is the pinned
     * one or the log holds no policy; the changes otherwise; {@code null} changes when the pinned
     * policy is not in the log, so there is nothing to compare with.
     */
    Optional<Change> changeFrom(String pinnedId) {
        Optional<Logged> newest = newest();
        if (newest.isEmpty() || newest.get().id().equals(pinnedId)) {
            return Optional.empty();
        }
        return Optional.of(new Change(latest(pinnedId).orElse(null), newest.get(),
                latest(pinnedId).map(p -> PolicyDiff.between(p.policy(), newest.get().policy())).orElse(null)));
    }

    /** A newer policy than the pinned one: both entries (pinned null if not logged) and the differences. */
    record Change(Logged pinned, Logged newest, List<PolicyDiff.Change> changes) {
    }
}
