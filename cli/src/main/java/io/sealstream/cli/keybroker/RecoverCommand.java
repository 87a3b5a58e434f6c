package io.sealstream.cli.keybroker;

import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.policy.AttestationPolicy;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxVerifier;
import io.sealstream.envelope.SealingKeyPair;
import io.sealstream.keybroker.client.KeyBrokerClient;
import io.sealstream.keybroker.custody.OwnerRecovery;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream key-broker recover}: returns the escrowed root secret to a key broker that
 * restarted with no replica to take it from, after checking the broker's evidence and the escrow
 * (see {@link OwnerRecovery}). Exit 0 when the broker serves again, 1 when a check refused it.
 */
@Command(name = "recover", mixinStandardHelpOptions = true,
        description = "Return the root secret to a key broker awaiting recovery, after verifying its evidence and "
                + "the escrow. Sends nothing to a broker that fails a check.")
public final class RecoverCommand implements Callable<Integer> {
    @Option(names = "--url", required = true, description = "The key broker, e.g. https://key-broker:8443.")
    String url;

    @Option(names = "--owner-key", required = true, description = "The recovery key file 'recovery-key' wrote.")
    Path ownerKey;

    @Option(names = "--policy", required = true, description = "The policy YAML the broker must enforce (its id is pinned).")
    Path policy;

    @Option(names = "--simulated-tee", description = "Development only: trust the simulated TEE saved in this "
            + "directory (the dev stack's DATA_DIR/simulated-tee) instead of the AMD and Intel roots.")
    Path simulatedTee;

    @Option(names = "--min-epoch", defaultValue = "0", description = "Refuse an escrow of an earlier epoch than this: "
            + "the epoch the last recovery printed (default ${DEFAULT-VALUE}).")
    long minEpoch;

    @Override
    public Integer call() throws Exception {
        AttestationPolicy pinned = AttestationPolicy.fromFile(policy);
        Map<TeeType, EvidenceVerifier> verifiers = simulatedTee == null
                ? Map.of(TeeType.SNP, SnpVerifier.withAmdRoots(), TeeType.TDX, TdxVerifier.withIntelRoot())
                : Map.of(TeeType.SNP, SnpVerifier.trustingDevelopmentRoot(List.of(),
                        SimulatedSnpTee.load(simulatedTee).developmentRoot()));
        SealingKeyPair key = SealingKeyPair.readPrivate(ownerKey);
        try {
            OwnerRecovery.Outcome outcome = new OwnerRecovery(verifiers, pinned, Clock.systemUTC(), minEpoch)
                    .recover(new KeyBrokerClient(url, Duration.ofSeconds(30)), key);
            System.out.println("Recovered: the key broker at " + url + " (measurement " + outcome.brokerMeasurement()
                    + ") holds root " + outcome.rootId().substring(0, 16) + "… of epoch " + outcome.epoch() + " and is "
                    + outcome.status().state() + ". Keep the epoch: pass it as --min-epoch next time.");
            return 0;
        } catch (OwnerRecovery.RefusedException e) {
            System.err.println("Not recovered, nothing sent: " + e.getMessage());
            return 1;
        }
    }
}
