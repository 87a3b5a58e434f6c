package io.sealstream.transparency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log on a disk the host controls: it survives restarts, and refuses to serve what the host changed. */
class TransparencyLogTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-02T04:00:00Z"), ZoneOffset.UTC);
    @TempDir
    Path dir;
    private KeyPair key;

    @BeforeEach
    void key() throws Exception {
        key = LogKeys.generate();
    }

    @Test
    void entriesAndHeadSurviveARestartAndProofsVerifyAgainstTheSignedHead() throws Exception {
        SignedTreeHead before;
        try (TransparencyLog log = open()) {
            for (int i = 0; i < 5; i++) {
                appendPolicy(log, i);
            }
            before = log.head();
        }

        try (TransparencyLog log = open()) {
            SignedTreeHead after = log.head();
            assertThat(after.size()).isEqualTo(5);
            assertThat(after.rootHash()).isEqualTo(before.rootHash());
            assertThat(after.verify(key.getPublic())).isTrue();
            assertThat(log.entry(3).fields()).containsEntry("policy_id", "policy-3");
            assertThat(MerkleProofs.inclusion(MerkleTree.leafHash(log.entry(3).bytes()), 3, 5, log.inclusionProof(3, 5),
                    after.rootHash())).isTrue();
            appendPolicy(log, 5);
            assertThat(MerkleProofs.consistency(5, after.rootHash(), 6, log.head().rootHash(), log.consistencyProof(5, 6)))
                    .isTrue();
        }
    }

    @Test
    void anEntryChangedOnDiskStopsTheLogFromOpening() throws Exception {
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
            appendPolicy(log, 1);
        }
        byte[] file = Files.readAllBytes(dir.resolve(TransparencyLog.ENTRIES));
        String s = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1).replace("policy-0", "policy-9");
        Files.write(dir.resolve(TransparencyLog.ENTRIES), s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));

        assertThatThrownBy(this::open).isInstanceOf(TransparencyLog.LogIntegrityException.class)
                .hasMessageContaining("changed, removed or reordered");
    }

    @Test
    void aHeadSignedByAnotherKeyStopsTheLogFromOpening() throws Exception {
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
        }
        KeyPair other = LogKeys.generate();

        assertThatThrownBy(() -> TransparencyLog.open(dir, key.getPrivate(), other.getPublic(), CLOCK))
                .isInstanceOf(TransparencyLog.LogIntegrityException.class).hasMessageContaining("not signed by the log key");
    }

    @Test
    void entriesWrittenPastTheSignedHeadAreDroppedNotSigned() throws Exception {
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
        }
        byte[] forged = new LogEntry(LogEntry.Type.POLICY, CLOCK.instant(), Map.of("policy_id", "policy-666", "policy",
                "e30=")).bytes(); // a canonical entry the log never acknowledged
        Files.write(dir.resolve(TransparencyLog.ENTRIES), ByteBuffer.allocate(4 + forged.length).putInt(forged.length)
                .put(forged).array(), StandardOpenOption.APPEND);

        try (TransparencyLog log = open()) {
            assertThat(log.head().size()).isEqualTo(1);
            appendPolicy(log, 1);
            assertThat(log.entry(1).fields()).containsEntry("policy_id", "policy-1");
        }
    }

    @Test
    void aRecordCutOffByACrashIsDropped() throws Exception {
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
        }
        Files.write(dir.resolve(TransparencyLog.ENTRIES), new byte[] {0, 0, 1, 0, '{', '"'}, StandardOpenOption.APPEND);

        try (TransparencyLog log = open()) {
            assertThat(log.head().size()).isEqualTo(1);
        }
    }

    @Test
    void entriesWithTheirHeadDeletedAreNotWipedButRefused() throws Exception {
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
            appendPolicy(log, 1);
        }
        Files.delete(dir.resolve(TransparencyLog.HEAD));

        assertThatThrownBy(this::open).isInstanceOf(TransparencyLog.LogIntegrityException.class)
                .hasMessageContaining("missing");
        assertThat(Files.size(dir.resolve(TransparencyLog.ENTRIES))).as("nothing was truncated").isGreaterThan(0);
    }

    @Test
    void anOlderHeadPutBackOnDiskDoesNotTruncateTheLog() throws Exception {
        byte[] older;
        try (TransparencyLog log = open()) {
            appendPolicy(log, 0);
            older = Files.readAllBytes(dir.resolve(TransparencyLog.HEAD));
            appendPolicy(log, 1);
            appendPolicy(log, 2);
        }
        Files.write(dir.resolve(TransparencyLog.HEAD), older);

        assertThatThrownBy(this::open).isInstanceOf(TransparencyLog.LogIntegrityException.class)
                .hasMessageContaining("more than one interrupted append");
    }

    @Test
    void entryAndHeadTimesNeverMoveBackEvenWhenTheClockDoes() throws Exception {
        Instant[] now = {Instant.parse("2026-12-02T05:00:00Z")};
        Clock stepping = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        try (TransparencyLog log = TransparencyLog.open(dir, key.getPrivate(), key.getPublic(), stepping)) {
            LogEntry first = log.append(LogEntry.Type.POLICY, Map.of("policy_id", "a", "policy", "e30=")).entry();
            SignedTreeHead firstHead = log.head();
            now[0] = now[0].minusSeconds(3600); // the host set the clock back

            LogEntry second = log.append(LogEntry.Type.POLICY, Map.of("policy_id", "b", "policy", "e30=")).entry();

            assertThat(second.at()).isEqualTo(first.at());
            assertThat(log.head().timestamp()).isAfterOrEqualTo(firstHead.timestamp());
        }
    }

    @Test
    void replicasSharingTheDirectoryServeOneLogAndNeverAnOlderHead() throws Exception {
        try (TransparencyLog a = open(); TransparencyLog b = open()) {
            appendPolicy(a, 0);
            appendPolicy(a, 1);

            SignedTreeHead two = b.head();
            assertThat(two).as("b takes in what a appended").isEqualTo(a.head());
            TransparencyLog.Appended third = appendPolicy(b, 2);
            assertThat(third.index()).isEqualTo(2);
            assertThat(a.head().size()).isEqualTo(3);
            assertThat(MerkleProofs.consistency(2, two.rootHash(), 3, a.head().rootHash(), a.consistencyProof(2, 3)))
                    .isTrue();
            assertThat(a.entry(2).fields()).containsEntry("policy_id", "policy-2");
            assertThat(MerkleProofs.inclusion(MerkleTree.leafHash(b.entry(2).bytes()), 2, 3, a.inclusionProof(2, 3),
                    b.head().rootHash())).isTrue();
        }
    }

    @Test
    void anOlderHeadPutBackWhileTheLogRunsIsRefusedNotServed() throws Exception {
        try (TransparencyLog log = open(); TransparencyLog replica = open()) {
            appendPolicy(log, 0);
            byte[] older = Files.readAllBytes(dir.resolve(TransparencyLog.HEAD));
            appendPolicy(log, 1);
            SignedTreeHead served = replica.head();
            Files.write(dir.resolve(TransparencyLog.HEAD), older);

            assertThatThrownBy(replica::head).isInstanceOf(TransparencyLog.LogIntegrityException.class)
                    .hasMessageContaining("older head was put back");
            assertThat(served.size()).isEqualTo(2);
        }
    }

    @Test
    void anEntryOutsideTheCanonicalFormIsRefused() {
        assertThatThrownBy(() -> LogEntry.parse("{\"type\":\"policy\", \"at\":\"2026-12-02T04:00:00Z\"}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new LogEntry(LogEntry.Type.POLICY, Instant.now(), Map.of("policy", "{\"a\":1}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("base64");
    }

    private TransparencyLog open() throws Exception {
        return TransparencyLog.open(dir, key.getPrivate(), key.getPublic(), CLOCK);
    }

    private static TransparencyLog.Appended appendPolicy(TransparencyLog log, int i) {
        return log.append(LogEntry.Type.POLICY, Map.of("policy_id", "policy-" + i, "policy", "eyJ2ZXJzaW9uIjoxfQ=="));
    }
}
