package io.sealstream.cli.keybroker;

import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.keybroker.api.KeyBrokerException;
import io.sealstream.keybroker.api.PolicyChanged;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.OwnerPolicyChange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream key-broker policy}: the owner replaces the policy of running key-broker
 * replicas (to revoke a measurement, TCB level or model), proving possession of the recovery key.
 * Exit 0 when every replica enforces the new policy.
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Replace the policy of running key-broker replicas as their owner; every topic gets a fresh "
                + "primary key and workers the new policy refuses get nothing more.")
public final class PolicyCommand implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "A key-broker replica; repeat for each (all must change).")
    List<String> urls;

    @Option(names = "--owner-key", required = true, description = "The recovery key file 'recovery-key' wrote.")
    Path ownerKey;

    @Option(names = "--from", required = true, description = "The policy YAML in force now (its id is checked).")
    Path from;

    @Option(names = "--to", required = true, description = "The new policy YAML.")
    Path to;

    @Override
    public Integer call() throws Exception {
        String current = AttestationPolicy.fromFile(from).id();
        String next = Files.readString(to);
        SealingKeyPair key = SealingKeyPair.readPrivate(ownerKey);
        int failed = 0;
        for (String url : urls) {
            try {
                PolicyChanged changed = OwnerPolicyChange.apply(new KeyBrokerClient(url, Duration.ofSeconds(30)), key,
                        current, next);
                System.out.println(url + ": policy " + changed.policyId() + " in force (was " + changed.previousPolicyId()
                        + "); fresh primary keys for " + changed.rotatingTopics());
            } catch (KeyBrokerException e) {
                failed++;
                System.err.println(url + ": not changed: " + e.getMessage());
            } catch (java.security.GeneralSecurityException e) {
                failed++;
                System.err.println(url + ": not changed: its challenge does not open with " + ownerKey
                        + "; the policy there names another recovery key");
            }
        }
        if (failed > 0) {
            System.err.println("Replicas on the old policy release nothing while another replica enforces the new one; "
                    + "run this again for those.");
        }
        return failed == 0 ? 0 : 1;
    }
}
