package io.sealstream.cli.keybroker;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.cli.CommandRun;
import io.sealstream.keybroker.KeyBrokerConfig;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.Custody;
import io.sealstream.keybroker.http.KeyBrokerServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owner's tools as the owner runs them: make a recovery key, recover a broker, change its policy. */
class KeyBrokerCommandsTest {
    private static final SimulatedSnpTee TEE = SimulatedSnpTee.shared();
    private static final byte[] BROKER = filled(48, 0xD2);
    private static final byte[] WORKER = filled(48, 0xC1);
    private static final byte[] REVOKED = filled(48, 0xC2);

    @TempDir
    Path dir;

    @Test
    void recoveryKeyWritesAnOwnerOnlyFileAndNeverOverwritesIt() throws Exception {
        CommandRun first = CommandRun.of("key-broker", "recovery-key", "--out", dir.resolve("owner.key").toString());
        CommandRun again = CommandRun.of("key-broker", "recovery-key", "--out", dir.resolve("owner.key").toString());

        assertThat(first.exit()).isZero();
        assertThat(first.out()).contains("key-broker:", "recovery-key: ");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("owner.key"))))
                .isEqualTo("rw-------");
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("never overwritten");
    }

    @Test
    void theOwnerRecoversARestartedBrokerAndThenChangesItsPolicy() throws Exception {
        String recoveryKeyLine = ownerKey();
        Path policy = write("policy.yaml", policyYaml(recoveryKeyLine, WORKER, REVOKED));
        Path revoked = write("revoked.yaml", policyYaml(recoveryKeyLine, WORKER));
        KeyBrokerConfig config = escrowedBroker(policy);

        try (KeyBrokerServer restarted = KeyBrokerServer.start(config)) {
            CommandRun recover = CommandRun.of("key-broker", "recover", "--url", restarted.url(), "--owner-key",
                    dir.resolve("owner.key").toString(), "--policy", policy.toString(), "--simulated-tee",
                    dir.resolve("simulated-tee").toString());
            CommandRun change = CommandRun.of("key-broker", "policy", "--url", restarted.url(), "--owner-key",
                    dir.resolve("owner.key").toString(), "--from", policy.toString(), "--to", revoked.toString());

            assertThat(recover.exit()).as(recover.err()).isZero();
            assertThat(recover.out()).contains("Recovered", "ready");
            assertThat(change.exit()).as(change.err()).isZero();
            assertThat(new KeyBrokerClient(restarted.url(), Duration.ofSeconds(5)).publicKeys("sealstream.requests",
                    new byte[32]).policyId()).isEqualTo(AttestationPolicy.fromFile(revoked).id());
        }
    }

    @Test
    void policyDiffShowsAClientWhatTheNewestLoggedPolicyChangesAgainstItsPin() throws Exception {
        String recoveryKeyLine = ownerKey();
        Path policy = write("policy.yaml", policyYaml(recoveryKeyLine, WORKER, REVOKED));
        Path revoked = write("revoked.yaml", policyYaml(recoveryKeyLine, WORKER));
        KeyBrokerConfig config = escrowedBroker(policy);

        try (KeyBrokerServer restarted = KeyBrokerServer.start(config)) {
            CommandRun.of("key-broker", "recover", "--url", restarted.url(), "--owner-key",
                    dir.resolve("owner.key").toString(),
                    "--policy", policy.toString(), "--simulated-tee", dir.resolve("simulated-tee").toString());
            Path connection = dir.resolve("acme.connection");
            new io.sealstream.client.ConnectionFile("127.0.0.1:9092", "http://registry", restarted.url(),
                    "sealstream.requests", java.util.HexFormat.of().formatHex(BROKER), AttestationPolicy.fromFile(policy).id(),
                    null, io.sealstream.tenancy.KafkaSecurity.Protocol.PLAINTEXT, null, null, java.util.List.of(), null, null,
                    null).withLogKey(new KeyBrokerClient(restarted.url(), Duration.ofSeconds(5)).logKey().publicKey())
                    .write(connection);
            CommandRun unchanged = CommandRun.of("policy", "diff", "--connection", connection.toString());
            CommandRun.of("key-broker", "policy", "--url", restarted.url(), "--owner-key",
                    dir.resolve("owner.key").toString(),
                    "--from", policy.toString(), "--to", revoked.toString());

            CommandRun changed = CommandRun.of("policy", "diff", "--connection", connection.toString());

            assertThat(unchanged.exit()).as(unchanged.err()).isZero();
            assertThat(unchanged.out()).contains("is the newest in the log");
            assertThat(changed.exit()).as(changed.err()).isEqualTo(1);
            assertThat(changed.out()).contains("newest  " + AttestationPolicy.fromFile(revoked).id())
                    .contains("- ").contains(java.util.HexFormat.of().formatHex(REVOKED));
        }
    }

    @Test
    void theRecoverToolSendsNothingWhenThePolicyIsNotTheOneTheBrokerEnforces() throws Exception {
        String recoveryKeyLine = ownerKey();
        Path policy = write("policy.yaml", policyYaml(recoveryKeyLine, WORKER, REVOKED));
        Path other = write("other.yaml", policyYaml(recoveryKeyLine, WORKER));
        KeyBrokerConfig config = escrowedBroker(policy);

        try (KeyBrokerServer restarted = KeyBrokerServer.start(config)) {
            CommandRun recover = CommandRun.of("key-broker", "recover", "--url", restarted.url(), "--owner-key",
                    dir.resolve("owner.key").toString(), "--policy", other.toString(), "--simulated-tee",
                    dir.resolve("simulated-tee").toString());

            assertThat(recover.exit()).isEqualTo(1);
            assertThat(recover.err()).contains("nothing sent", "policy_mismatch");
            assertThat(new KeyBrokerClient(restarted.url(), Duration.ofSeconds(5)).custody().state())
                    .isEqualTo("awaiting_recovery");
        }
    }

    /** Runs 'recovery-key' into dir/owner.key; the policy line it printed. */
    private String ownerKey() {
        CommandRun key = CommandRun.of("key-broker", "recovery-key", "--out", dir.resolve("owner.key").toString());
        return key.out().lines().filter(l -> l.contains("recovery-key: ")).findFirst().orElseThrow();
    }

    /** A broker in recovery custody under {@code policy}, started once so that its root is made and escrowed. */
    private KeyBrokerConfig escrowedBroker(Path policy) {
        TEE.save(dir.resolve("simulated-tee"));
        KeyBrokerConfig config = KeyBrokerConfig.builder().dataDir(dir.resolve("broker"))
                .policy(AttestationPolicy.fromFile(policy))
                .verifier(TeeType.SNP, SnpVerifier.trustingDevelopmentRoot(List.of(), TEE.developmentRoot()))
                .ownEvidence(TEE.provider(BROKER)).topics(List.of("sealstream.requests")).custody(Custody.recovery())
                .build();
        KeyBrokerServer.start(config).close();
        return config;
    }

    private String policyYaml(String recoveryKeyLine, byte[]... workers) {
        return String.join("\n", "version: 1", "name: owner-tools-test", "allow-simulated: true",
                "models: ['" + "ab".repeat(32) + "']",
                "key-broker:", "  measurements: ['" + HexFormat.of().formatHex(BROKER) + "']", recoveryKeyLine,
                "tee:", "  snp:", "    measurements: [" + String.join(", ", Arrays.stream(workers)
                        .map(w -> "'" + HexFormat.of().formatHex(w) + "'").toList()) + "]", "");
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
