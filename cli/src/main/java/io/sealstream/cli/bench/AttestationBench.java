package io.sealstream.cli.bench;

import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxCollateral;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream bench attestation}: warm verification time of one SEV-SNP report and one TDX
 * quote (the real vectors in {@code ../shared/vectors} when present) and of simulated SNP evidence.
 */
@Command(name = "attestation", mixinStandardHelpOptions = true,
        description = "Warm verification time per SEV-SNP report and per TDX quote.")
public final class AttestationBench implements Callable<Integer> {
    @Option(names = "--vectors", defaultValue = "../shared/vectors", description = "Real evidence (default ${DEFAULT-VALUE}).")
    Path vectors;

    @Option(names = "--iterations", defaultValue = "200", description = "Measured verifications (default ${DEFAULT-VALUE}).")
    int iterations;

    @Override
    public Integer call() throws Exception {
        System.out.printf("Evidence verification, %d iterations after %d warm-up, 1 thread%n", iterations, iterations / 4);
        System.out.printf("%-44s %12s %12s%n", "evidence", "mean µs", "p50 µs");
        Instant at = Instant.parse("2025-06-01T00:00:00Z");
        Path snp = vectors.resolve("snp/milan-vcek-report.bin");
        if (Files.isRegularFile(snp)) {
            Evidence e = new Evidence(TeeType.SNP, Files.readAllBytes(snp),
                    List.of(Files.readAllBytes(vectors.resolve("snp/milan-vcek.der"))));
            row("SEV-SNP Milan report (AMD roots)", SnpVerifier.withAmdRoots(), e, at);
        } else {
            System.out.println("(no " + snp + ": real SNP vector skipped)");
        }
        Path tdx = vectors.resolve("tdx/quote-v4.dat");
        if (Files.isRegularFile(tdx)) {
            row("TDX v4 quote (Intel SGX Root CA)", TdxVerifier.withIntelRoot(),
                    new Evidence(TeeType.TDX, Files.readAllBytes(tdx), List.of()), at);
        } else {
            System.out.println("(no " + tdx + ": real TDX vector skipped)");
        }
        Path qvl = vectors.resolve("tdx/dcap-qvl/tdx_quote");
        Path collateral = vectors.resolve("tdx/dcap-qvl/tdx_quote_collateral.json");
        if (Files.isRegularFile(qvl) && Files.isRegularFile(collateral)) {
            TdxCollateral c = TdxCollateral.load(collateral);
            row("TDX v4 quote + collateral, CRLs (TCB status)", TdxVerifier.withIntelRoot().withCollateral(List.of(c)),
                    new Evidence(TeeType.TDX, Files.readAllBytes(qvl), List.of()), Instant.parse("2025-07-19T10:00:34Z"));
        } else {
            System.out.println("(no " + qvl + " with its collateral: TCB status row skipped)");
        }
        SimulatedSnpTee sim = SimulatedSnpTee.shared();
        row("simulated SEV-SNP report (dev root)", SnpVerifier.trustingDevelopmentRoot(List.of(), sim.developmentRoot()),
                sim.attest(new byte[48], new byte[64]), Instant.now());
        return 0;
    }

    private void row(String name, EvidenceVerifier verifier, Evidence e, Instant at) throws Exception {
        for (int i = 0; i < iterations / 4; i++) {
            verifier.verify(e, at);
        }
        long[] t = new long[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            verifier.verify(e, at);
            t[i] = System.nanoTime() - t0;
        }
        long[] sorted = t.clone();
        Arrays.sort(sorted);
        System.out.printf("%-44s %12.1f %12.1f%n", name, Arrays.stream(t).average().orElse(0) / 1000.0,
                sorted[sorted.length / 2] / 1000.0);
    }
}
