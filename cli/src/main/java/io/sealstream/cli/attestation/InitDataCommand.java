package io.sealstream.cli.attestation;

import io.sealstream.attestation.initdata.KataInitData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream attestation init-data}: the Kata init-data document for a pod (its settings
 * file and agent policy), its digest for the Sealstream policy, and the pod annotation.
 */
@Command(name = "init-data", mixinStandardHelpOptions = true,
        description = "Write a pod's Kata init-data (settings and agent policy) and print the digest to pin in the policy.")
public final class InitDataCommand implements Callable<Integer> {
    @Option(names = "--file", required = true, description = "A file the pod gets at launch (its settings, the Kata "
            + "agent policy policy.rego, ...); repeatable. Stored under its file name.")
    List<Path> files;

    @Option(names = "--algorithm", defaultValue = "sha256", description = "sha256 (SEV-SNP: HOST_DATA is 32 bytes) or "
            + "sha384 (TDX: MRCONFIGID is 48 bytes); default ${DEFAULT-VALUE}.")
    String algorithm;

    @Option(names = "--out", required = true, description = "Where to write the init-data TOML.")
    Path out;

    @Override
    public Integer call() {
        KataInitData.Algorithm alg;
        try {
            alg = KataInitData.Algorithm.valueOf(algorithm.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("sealstream attestation init-data: --algorithm is sha256 or sha384, not '" + algorithm + "'");
            return 2;
        }
        Map<String, String> contents = new LinkedHashMap<>();
        try {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (contents.put(name, Files.readString(f, StandardCharsets.UTF_8)) != null) {
                    System.err.println("sealstream attestation init-data: two files are named " + name + "; rename one");
                    return 2;
                }
            }
            KataInitData data = KataInitData.of(alg, contents);
            Files.write(out, data.toml());
            Files.writeString(Path.of(out + ".annotation"), data.annotation() + "\n");
            System.out.println("init-data " + out + " (" + contents.size() + " files, " + alg.id() + ")");
            System.out.println("digest " + data.digestHex());
            System.out.println(alg == KataInitData.Algorithm.SHA256
                    ? "pin it as tee.snp.host-data (workers) or key-broker.host-data (the key broker's pod)"
                    : "pin it as tee.tdx.mrconfigid (workers) or key-broker.mrconfigid (the key broker's pod)");
            System.out.println("pod annotation io.katacontainers.config.runtime.cc_init_data: " + out + ".annotation");
            return 0;
        } catch (IOException | java.io.UncheckedIOException e) {
            System.err.println("sealstream attestation init-data: cannot read or write (" + e.getMessage() + ")");
            return 1;
        } catch (IllegalArgumentException e) {
            System.err.println("sealstream attestation init-data: " + e.getMessage());
            return 2;
        }
    }
}
