package io.sealstream.transparency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A client's checks of the log: the attacks of issue 17 (a forked log, a truncated log, a policy too new, a swapped entry). */
class LogMonitorTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    @TempDir
    Path dir;
    private KeyPair key;

    @BeforeEach
    void key() throws Exception {
        key = LogKeys.generate();
    }

    @Test
    void aLogThatOnlyGrewIsAcceptedAndItsHeadKeptAcrossRestarts() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 3);
            monitor().update(source(log));
            append(log, 3, 7);

            SignedTreeHead head = monitor().update(source(log)); // a new monitor: the last head came from disk

            assertThat(head.size()).isEqualTo(7);
            assertThat(monitor().lastHead().orElseThrow().size()).isEqualTo(7);
        }
    }

    @Test
    void aForkedLogIsRefused() throws Exception {
        try (TransparencyLog honest = log("honest"); TransparencyLog forked = log("forked")) {
            append(honest, 0, 5);
            monitor().update(source(honest));
            append(forked, 0, 3);
            append(forked, 3, "forged"); // the same start, then another history, signed by the same key
            append(forked, 4, 8);

            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().update(source(forked)));

            assertThat(e.code()).isEqualTo("log_forked");
        }
    }

    @Test
    void aTruncatedLogIsRefused() throws Exception {
        try (TransparencyLog longer = log("longer"); TransparencyLog shorter = log("shorter")) {
            append(longer, 0, 6);
            append(shorter, 0, 4);
            monitor().update(source(longer));

            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().update(source(shorter)));

            assertThat(e.code()).isEqualTo("log_truncated");
        }
    }

    @Test
    void anOlderHeadReadBeforeAnotherProcessKeptALaterOneIsNotATruncation() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 3);
            SignedTreeHead fetchedEarlier = log.head();
            append(log, 3, 6);
            monitor().update(source(log)); // another process sharing the connection keeps the later head
            LogMonitor.LogSource slow = new DelegatingSource(log) {
                @Override
                public SignedTreeHead head() {
                    return fetchedEarlier;
                }
            };

            SignedTreeHead kept = monitor().update(slow);

            assertThat(kept.size()).isEqualTo(6);
        }
    }

    @Test
    void aHeadDatedAfterTheClientsClockIsRefusedAndNotKept() throws Exception {
        Clock ahead = Clock.fixed(NOW.plus(Duration.ofDays(365)), ZoneOffset.UTC);
        try (TransparencyLog log = TransparencyLog.open(dir.resolve("ahead"), key.getPrivate(), key.getPublic(), ahead)) {
            append(log, 0, 2);

            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().update(source(log)));

            assertThat(e.code()).isEqualTo("log_future");
            assertThat(monitor().lastHead()).isEmpty();
        }
    }

    /** A log source that answers as {@code log} does unless a test overrides a method. */
    private static class DelegatingSource implements LogMonitor.LogSource {
        private final TransparencyLog log;

        DelegatingSource(TransparencyLog log) {
            this.log = log;
        }

        @Override
        public SignedTreeHead head() {
            return log.head();
        }

        @Override
        public java.util.List<byte[]> consistencyProof(long first, long second) {
            return log.consistencyProof(first, second);
        }

        @Override
        public java.util.List<byte[]> inclusionProof(long index, long size) {
            return log.inclusionProof(index, size);
        }

        @Override
        public java.util.List<byte[]> entries(long start, long end) {
            return log.entries(start, end);
        }
    }

    @Test
    void aHeadSignedByAnotherKeyIsRefused() throws Exception {
        KeyPair other = LogKeys.generate();
        try (TransparencyLog log = TransparencyLog.open(dir.resolve("other"), other.getPrivate(), other.getPublic(), CLOCK)) {
            append(log, 0, 2);

            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().update(source(log)));

            assertThat(e.code()).isEqualTo("log_signature");
        }
    }

    @Test
    void anEntryIsAcceptedOnlyWithItsInclusionProof() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 6);
            monitor().update(source(log));

            monitor().requireIncluded(entry(4), 4, source(log));
            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().requireIncluded(entry(4, "other"), 4, source(log)));

            assertThat(e.code()).isEqualTo("not_in_log");
        }
    }

    @Test
    void aPolicyYoungerThanTheMinimumAgeIsRefused() throws Exception {
        LogEntry fresh = new LogEntry(LogEntry.Type.POLICY, NOW.minusSeconds(600), Map.of("policy_id", "abc", "policy", "e30="));
        LogEntry aged = new LogEntry(LogEntry.Type.POLICY, NOW.minus(Duration.ofDays(2)), Map.of("policy_id", "abc",
                "policy", "e30="));

        LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                () -> monitor().requirePolicyAged(fresh));
        monitor().requirePolicyAged(aged);

        assertThat(e.code()).isEqualTo("policy_too_new");
        assertThat(e.getMessage()).contains("600 s ago").contains("86400 s");
    }

    @Test
    void anIncludedEntryNeedsAHeadTheClientAccepted() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 3);

            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().requireIncluded(entry(1), 1, source(log)));

            assertThat(e.code()).isEqualTo("not_in_log");
        }
    }

    @Test
    void aKeptHeadReplacedOnTheClientsDiskIsNotReliedOn() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 3);
            monitor().update(source(log));
        }
        Path kept = dir.resolve("client").resolve("log-head");
        byte[] bytes = java.nio.file.Files.readAllBytes(kept);
        bytes[20] ^= 1; // inside the root
        java.nio.file.Files.write(kept, bytes);

        LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                () -> monitor().lastHead());

        assertThat(e.code()).isEqualTo("log_head_unreadable");
    }

    @Test
    void anAuditReadsEveryEntryAndRefusesEntriesOtherThanTheHeadCommitsTo() throws Exception {
        try (TransparencyLog log = log("log")) {
            append(log, 0, 300); // more than one page
            LogMonitor.LogSource lying = new DelegatingSource(log) {
                @Override
                public java.util.List<byte[]> entries(long start, long end) {
                    java.util.List<byte[]> shown = new java.util.ArrayList<>(log.entries(start, end));
                    if (start == 0) {
                        shown.set(5, entry(5, "shown-to-the-auditor").bytes()); // another entry 5 than the tree holds
                    }
                    return shown;
                }
            };

            java.util.List<LogEntry> all = monitor().audit(source(log));
            LogMonitor.LogVerificationException e = catchThrowableOfType(LogMonitor.LogVerificationException.class,
                    () -> monitor().audit(lying));

            assertThat(all).hasSize(300);
            assertThat(all.get(299).fields()).containsEntry("measurement", "m299");
            assertThat(e.code()).isEqualTo("log_root_mismatch");
        }
    }

    private LogMonitor monitor() {
        return new LogMonitor(key.getPublic(), dir.resolve("client").resolve("log-head"), Duration.ofDays(1), CLOCK);
    }

    private TransparencyLog log(String name) throws Exception {
        return TransparencyLog.open(dir.resolve(name), key.getPrivate(), key.getPublic(), CLOCK);
    }

    private static void append(TransparencyLog log, int from, int to) {
        for (int i = from; i < to; i++) {
            append(log, i, "m" + i);
        }
    }

    private static void append(TransparencyLog log, int i, String measurement) {
        log.append(LogEntry.Type.BROKER_MEASUREMENT, entry(i, measurement).fields());
    }

    private static LogEntry entry(int i) {
        return entry(i, "m" + i);
    }

    /** Entry {@code i} as the log (whose clock is fixed at {@link #NOW}) stamps it. */
    private static LogEntry entry(int i, String measurement) {
        return new LogEntry(LogEntry.Type.BROKER_MEASUREMENT, NOW, Map.of("tee", "snp", "measurement", measurement));
    }

    /** The log as a client reaches it (here directly; over HTTP from the key broker). */
    private static LogMonitor.LogSource source(TransparencyLog log) {
        return log;
    }
}
