package io.sealstream.attestation.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.nvidia.GpuClaims;
import io.sealstream.attestation.tdx.TcbStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The attestation policy (ARCHITECTURE.md §6, docs/attestation.md): which TEEs, launch
 * measurements, TCB levels and model digests may receive keys. Parsed from YAML and validated with
 * errors that name the field; its id is the SHA-256 of a canonical JSON form, specified byte for
 * byte in docs/attestation.md ("Policy id", with a test vector), so two files that mean the same
 * policy have the same id, clients pin that id, and any implementation can recompute it.
 *
 * <pre>
 * version: 1
 * name: production
 * allow-simulated: false        # default false; true only for the dev stack
 * max-evidence-age: 5m
 * models: [SHA-256 hex of the model files, ...]
 * pools:                        # optional: which worker pool serves which model names
 *   default: [all-minilm-l6-v2-q]
 *   chat: [stories260K]
 * key-broker:                   # what the key broker must show clients, its replicas and the owner
 *   measurements: [96 hex digits, ...]        # SNP MEASUREMENT or TDX MRTD of the key broker build
 *   host-data: [64 hex digits, ...]           # optional: SNP HOST_DATA of the broker's launch
 *   rtmr0: [...]                              # optional, likewise rtmr1..3, mrconfigid, mrowner, mrownerconfig
 *   recovery-key: base64 Tink HPKE public keyset  # the owner's; the root secret is escrowed to it
 * tee:
 *   snp:
 *     measurements: [96 hex digits, ...]
 *     host-data: [64 hex digits, ...]          # optional
 *     min-tcb: {bootloader: 3, tee: 0, snp: 8, microcode: 115}  # each listed component must be reported
 *     allow-debug: false
 *     allow-migration-agent: false
 *     max-vmpl: 0                              # default 0: the report comes from the guest's most privileged level
 *     allow-smt: true                          # default true; false refuses guests whose policy allows SMT
 *     min-abi: '1.55'                          # optional: the guest policy must demand at least this firmware ABI
 *   tdx:
 *     mrtd: [96 hex digits, ...]
 *     rtmr0: [...]                             # optional, likewise rtmr1..3
 *     mrconfigid: [...]                        # optional, likewise mrowner, mrownerconfig (96 hex digits)
 *     accepted-tcb-status: [UpToDate]
 *     allow-debug: false
 *     allow-sept-ve: false                     # default false: the TD must set SEPT_VE_DISABLE
 *     min-tcb: {tdx-module-major: 1, tdx-module-minor: 5, seam-last-patch: 0}  # optional floors
 *   azure-snp:                                 # Azure confidential VMs: the snp rules, for the paravisor's report,
 *     measurements: [...]                      # and the vTPM PCRs that identify the workload (required)
 *     pcrs: {4: [64 hex digits, ...], 11: [...]}
 *   azure-tdx:                                 # likewise with the tdx rules
 *     mrtd: [...]
 *     pcrs: {...}
 * </pre>
 *
 * <p>{@code key-broker:} takes {@code pcrs:} too, for a key broker on an Azure confidential VM.
 */
public final class AttestationPolicy {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            // hex of digits only ("2222...") would otherwise be written bare and read back as a number
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP = Set.of("version", "name", "allow-simulated", "gpu", "max-evidence-age", "models", "pools",
            "key-broker", "tee");
    /** The TDX registers a policy may pin besides MRTD: who the TD is and what it was configured with. */
    private static final List<String> TDX_REGISTERS = List.of("rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner",
            "mrownerconfig");
    private static final Set<String> KEY_BROKER_KEYS = union(Set.of("measurements", "host-data", "recovery-key", "pcrs"),
            TDX_REGISTERS);
    private static final int MAX_RECOVERY_KEY = 4096;
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9 ._:-]{0,128}");
    private static final java.util.regex.Pattern POOL_NAME = java.util.regex.Pattern.compile("[a-z0-9]{1,32}");
    // the same rule as EnvelopeProtocol.isLegalPoolName, which this module cannot see
    private static final java.util.regex.Pattern MODEL_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Set<String> SNP_KEYS = Set.of("measurements", "host-data", "min-tcb", "min-abi", "allow-debug",
            "allow-migration-agent", "max-vmpl", "allow-smt");
    private static final Set<String> TDX_KEYS = union(Set.of("mrtd", "accepted-tcb-status", "allow-debug", "allow-sept-ve",
            "min-tcb"), TDX_REGISTERS);
    /**
     * TDX module components a {@code tee.tdx.min-tcb} may bound, and the TEE_TCB_SVN byte each is:
     * the module's minor and major SVN and the SEAM loader's last patch SVN.
     */
    private static final Map<String, Integer> TDX_TCB_COMPONENTS = Map.of("tdx-module-minor", 0, "tdx-module-major", 1,
            "seam-last-patch", 2);
    /** What an Azure section holds besides the bare rules. */
    private static final List<String> AZURE_KEYS = List.of("pcrs", "vm-configuration");
    /**
     * The PCRs a strict policy pins on Azure: the boot loader and kernel image (4), the Secure Boot
     * state and keys (7), and at least one of those that cover the kernel command line, initrd or
     * unified kernel image (8, 9, 11).
     */
    static final List<Integer> STRICT_PCRS = List.of(4, 7);
    static final List<Integer> STRICT_PCRS_ONE_OF = List.of(8, 9, 11);
    /** TD attribute SEPT_VE_DISABLE: EPT violations are not turned into #VE for the guest to handle. */
    static final long SEPT_VE_DISABLE = 1L << 28;
    private static final Set<String> TCB_COMPONENTS = Set.of("fmc", "bootloader", "tee", "snp", "microcode");
    private static final Set<String> TCB_STATUSES = Arrays.stream(TcbStatus.values()).map(TcbStatus::id)
            .collect(Collectors.toUnmodifiableSet());

    private final String name;
    private final boolean allowSimulated;
    private final Duration maxEvidenceAge;
    private final Set<String> models;
    private final Map<String, Set<String>> pools;
    private final Optional<SnpRules> snp;
    private final Optional<TdxRules> tdx;
    private final Optional<SnpRules> azureSnp;
    private final Optional<TdxRules> azureTdx;
    private final KeyBrokerRules keyBroker;
    private final Optional<GpuRules> gpu;
    private final String canonicalJson;
    private final String id;

    /**
     * What SNP evidence must show; {@code pcrs} (vTPM PCR index to allowed SHA-256 values) only
     * under {@code tee.azure-snp}, where it is required.
     */
    public record SnpRules(Set<String> measurements, Set<String> hostData, Map<String, Integer> minTcb,
                           boolean allowDebug, boolean allowMigrationAgent, int maxVmpl, boolean allowSmt,
                           Map<Integer, Set<String>> pcrs, Map<String, Boolean> vmConfiguration,
                           Optional<int[]> minAbi) {
        public SnpRules {
            minAbi = minAbi.map(int[]::clone);
        }

        @Override
        public Optional<int[]> minAbi() {
            return minAbi.map(int[]::clone);
        }
    }

    private static Set<String> union(Set<String> a, List<String> b) {
        Set<String> out = new java.util.HashSet<>(a);
        out.addAll(b);
        return Set.copyOf(out);
    }

    /**
     * What the key broker must show its clients, its replicas and the owner: its own workload
     * identity (launch measurements, SNP MEASUREMENT or TDX MRTD; optionally the HOST_DATA or RTMRs
     * of its launch, which differ from the workers'), while the platform rules of {@code tee:}
     * (debug, migration agent, TCB) apply as for workers; and the owner's recovery public key (a
     * Tink HPKE public keyset, kept as bytes: this module does not parse Tink keys).
     */
    public record KeyBrokerRules(Set<String> measurements, Set<String> hostData, Map<String, Set<String>> registers,
                                 Map<Integer, Set<String>> pcrs, Optional<byte[]> recoveryKey) {
        static final KeyBrokerRules NONE = new KeyBrokerRules(Set.of(), Set.of(), Map.of(), Map.of(), Optional.empty());

        public KeyBrokerRules {
            recoveryKey = recoveryKey.map(byte[]::clone);
        }

        @Override
        public Optional<byte[]> recoveryKey() {
            return recoveryKey.map(byte[]::clone);
        }
    }

    /**
     * What TDX evidence must show; {@code registers} pins RTMRs, MRCONFIGID, MROWNER and
     * MROWNERCONFIG by name, each only where listed; {@code pcrs} as for {@link SnpRules}, under
     * {@code tee.azure-tdx} only; {@code minTcb} bounds the TDX module's SVNs by component name;
     * {@code allowSeptVe} admits TDs that do not set SEPT_VE_DISABLE.
     */
    public record TdxRules(Set<String> mrtd, Map<String, Set<String>> registers, Set<String> acceptedTcbStatus,
                           boolean allowDebug, Map<Integer, Set<String>> pcrs, Map<String, Integer> minTcb,
                           boolean allowSeptVe, Map<String, Boolean> vmConfiguration) {
    }

    /**
     * What the GPUs beside a worker must show (NVIDIA confidential computing): whether a worker
     * must present GPU evidence at all, which architectures, and the lowest driver and VBIOS
     * versions. Versions compare component by component: the driver's as decimal numbers
     * ({@code 550.54.14}), the VBIOS's as hexadecimal ({@code 96.00.5E.00.01}).
     */
    public record GpuRules(boolean required, Set<String> architectures, Optional<String> minDriver,
                           Optional<String> minVbios) {
    }

    private AttestationPolicy(String name, boolean allowSimulated, Duration maxEvidenceAge, Set<String> models,
                              Map<String, Set<String>> pools, KeyBrokerRules keyBroker, Optional<SnpRules> snp,
                              Optional<TdxRules> tdx, Optional<SnpRules> azureSnp, Optional<TdxRules> azureTdx,
                              Optional<GpuRules> gpu) {
        this.name = name;
        this.allowSimulated = allowSimulated;
        this.maxEvidenceAge = maxEvidenceAge;
        this.models = models;
        this.pools = pools;
        this.snp = snp;
        this.tdx = tdx;
        this.azureSnp = azureSnp;
        this.azureTdx = azureTdx;
        this.keyBroker = keyBroker;
        this.gpu = gpu;
        this.canonicalJson = canonical().toString();
        this.id = sha256Hex(canonicalJson);
    }

    /** Parses and validates a policy. */
    public static AttestationPolicy parse(String yaml) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml == null ? "" : yaml);
        } catch (JsonProcessingException e) {
            throw new PolicyException("(document)", "not valid YAML (line " + e.getLocation().getLineNr() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new PolicyException("(document)", "expected a mapping with version, models and tee");
        }
        onlyKeys(root, TOP, "");
        int version = root.path("version").asInt(-1);
        if (!root.has("version") || version != 1) {
            throw new PolicyException("version", "expected 1");
        }
        String name = root.path("name").asText("");
        if (root.has("name") && (!root.get("name").isTextual() || !NAME.matcher(name).matches())) {
            // every string of the canonical form is from a small ASCII alphabet, so it needs no escaping
            // and any implementation serialises it to the same bytes (docs/attestation.md, "Policy id")
            throw new PolicyException("name", "at most 128 letters, digits, spaces or '.', '_', ':', '-'");
        }
        boolean allowSimulated = bool(root, "allow-simulated", "allow-simulated");
        Duration maxAge = root.has("max-evidence-age") ? duration(root.get("max-evidence-age"), "max-evidence-age")
                : Duration.ofMinutes(5);
        Set<String> models = hexList(root.get("models"), "models", 64, true);
        Map<String, Set<String>> pools = root.has("pools") ? pools(root.get("pools")) : Map.of();
        KeyBrokerRules keyBroker = root.has("key-broker") ? keyBrokerRules(root.get("key-broker")) : KeyBrokerRules.NONE;
        JsonNode tee = root.get("tee");
        if (tee == null || !tee.isObject() || tee.isEmpty()) {
            throw new PolicyException("tee", "expected at least one of snp, tdx, azure-snp, azure-tdx");
        }
        onlyKeys(tee, Set.of("snp", "tdx", "azure-snp", "azure-tdx"), "tee.");
        Optional<SnpRules> snp = Optional.ofNullable(tee.get("snp")).map(n -> snpRules(n, TeeType.SNP));
        Optional<TdxRules> tdx = Optional.ofNullable(tee.get("tdx")).map(n -> tdxRules(n, TeeType.TDX));
        Optional<SnpRules> azureSnp = Optional.ofNullable(tee.get("azure-snp")).map(n -> snpRules(n, TeeType.AZURE_SNP));
        Optional<TdxRules> azureTdx = Optional.ofNullable(tee.get("azure-tdx")).map(n -> tdxRules(n, TeeType.AZURE_TDX));
        if (!allowSimulated) {
            snp.ifPresent(r -> requireStrict(r, TeeType.SNP));
            azureSnp.ifPresent(r -> requireStrict(r, TeeType.AZURE_SNP));
            tdx.ifPresent(AttestationPolicy::requireStrict);
            azureSnp.ifPresent(r -> requireStrictPcrs(r.pcrs(), "tee.azure-snp.pcrs"));
            azureTdx.ifPresent(r -> requireStrictPcrs(r.pcrs(), "tee.azure-tdx.pcrs"));
            if (!keyBroker.pcrs().isEmpty()) {
                requireStrictPcrs(keyBroker.pcrs(), "key-broker.pcrs");
            }
        }
        Optional<GpuRules> gpu = root.has("gpu") ? Optional.of(gpuRules(root.get("gpu"))) : Optional.empty();
        return new AttestationPolicy(name, allowSimulated, maxAge, models, pools, keyBroker, snp, tdx, azureSnp, azureTdx,
                gpu);
    }

    private static KeyBrokerRules keyBrokerRules(JsonNode n) {
        if (!n.isObject() || n.isEmpty()) {
            throw new PolicyException("key-broker", "expected a mapping with measurements and/or recovery-key");
        }
        onlyKeys(n, KEY_BROKER_KEYS, "key-broker.");
        Set<String> measurements = hexList(n.get("measurements"), "key-broker.measurements", 96, false);
        Set<String> hostData = n.has("host-data") ? hexList(n.get("host-data"), "key-broker.host-data", 64, true) : Set.of();
        Map<String, Set<String>> registers = tdxRegisters(n, "key-broker.");
        Map<Integer, Set<String>> pcrs = n.has("pcrs") ? pcrs(n.get("pcrs"), "key-broker.pcrs") : Map.of();
        Optional<byte[]> recoveryKey = Optional.empty();
        if (n.has("recovery-key")) {
            try {
                byte[] key = java.util.Base64.getDecoder().decode(n.get("recovery-key").asText(""));
                if (key.length == 0 || key.length > MAX_RECOVERY_KEY) {
                    throw new IllegalArgumentException("length");
                }
                recoveryKey = Optional.of(key);
            } catch (IllegalArgumentException e) {
                throw new PolicyException("key-broker.recovery-key", "expected the owner's recovery public key as "
                        + "printed by 'sealstream key-broker recovery-key' (base64, at most " + MAX_RECOVERY_KEY + " bytes)");
            }
        }
        return new KeyBrokerRules(measurements, hostData, registers, pcrs, recoveryKey);
    }

    /** {@code pools:} pool name to the model names it serves; a model in two pools is refused (routing must be one way). */
    private static Map<String, Set<String>> pools(JsonNode n) {
        if (!n.isObject() || n.isEmpty()) {
            throw new PolicyException("pools", "expected a mapping of pool names to lists of model names");
        }
        Map<String, Set<String>> out = new TreeMap<>();
        Map<String, String> poolOfModel = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String pool = e.getKey();
            String field = "pools." + pool;
            if (!POOL_NAME.matcher(pool).matches()) {
                throw new PolicyException(field, "a pool name is 1 to 32 lower-case letters or digits");
            }
            if (!e.getValue().isArray() || e.getValue().isEmpty()) {
                throw new PolicyException(field, "expected a non-empty list of model names");
            }
            Set<String> names = new TreeSet<>();
            for (JsonNode m : e.getValue()) {
                String model = m.asText("");
                if (!m.isTextual() || !MODEL_NAME.matcher(model).matches()) {
                    throw new PolicyException(field, "a model name is 1 to 128 letters, digits or '.', '_', ':', '-'");
                }
                String other = poolOfModel.putIfAbsent(model, pool);
                if (other != null) {
                    throw new PolicyException(field, "model '" + model + "' is also in pool '" + other
                            + "'; a model is served by one pool");
                }
                names.add(model);
            }
            out.put(pool, java.util.Collections.unmodifiableSet(names));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Reads and parses a policy file. */
    public static AttestationPolicy fromFile(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read policy file " + file, e);
        }
    }

    private static SnpRules snpRules(JsonNode n, TeeType tee) {
        String prefix = "tee." + tee.id() + ".";
        onlyKeys(n, tee.azure() ? union(SNP_KEYS, AZURE_KEYS) : SNP_KEYS, prefix);
        Set<String> measurements = hexList(n.get("measurements"), prefix + "measurements", 96, true);
        Set<String> hostData = n.has("host-data") ? hexList(n.get("host-data"), prefix + "host-data", 64, true) : Set.of();
        Map<String, Integer> minTcb = new TreeMap<>();
        JsonNode tcb = n.get("min-tcb");
        if (tcb != null) {
            if (!tcb.isObject()) {
                throw new PolicyException(prefix + "min-tcb", "expected a mapping of component to minimum SVN");
            }
            onlyKeys(tcb, TCB_COMPONENTS, prefix + "min-tcb.");
            tcb.fields().forEachRemaining(e -> {
                if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getValue().asInt() > 255) {
                    throw new PolicyException(prefix + "min-tcb." + e.getKey(), "expected an SVN from 0 to 255");
                }
                minTcb.put(e.getKey(), e.getValue().asInt());
            });
        }
        int maxVmpl = 0;
        if (n.has("max-vmpl")) {
            JsonNode v = n.get("max-vmpl");
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0 || v.asInt() > 3) {
                throw new PolicyException(prefix + "max-vmpl", "expected a VMPL from 0 to 3");
            }
            maxVmpl = v.asInt();
        }
        boolean allowSmt = !n.has("allow-smt") || bool(n, "allow-smt", prefix + "allow-smt");
        return new SnpRules(measurements, hostData, Map.copyOf(minTcb), bool(n, "allow-debug", prefix + "allow-debug"),
                bool(n, "allow-migration-agent", prefix + "allow-migration-agent"), maxVmpl, allowSmt,
                azurePcrs(n, tee), vmConfiguration(n, tee), minAbi(n, prefix));
    }

    private static final java.util.regex.Pattern DRIVER_VERSION = java.util.regex.Pattern.compile("[0-9]{1,5}(\\.[0-9]{1,5}){0,3}");
    private static final java.util.regex.Pattern VBIOS_VERSION = java.util.regex.Pattern.compile("[0-9A-F]{2}(\\.[0-9A-F]{2}){4}");
    private static final java.util.regex.Pattern ARCHITECTURE = java.util.regex.Pattern.compile("[A-Z0-9]{1,16}");

    private static GpuRules gpuRules(JsonNode n) {
        if (!n.isObject()) {
            throw new PolicyException("gpu", "expected a mapping with required, architectures, min-driver, min-vbios");
        }
        onlyKeys(n, Set.of("required", "architectures", "min-driver", "min-vbios"), "gpu.");
        boolean required = !n.has("required") || bool(n, "required", "gpu.required");
        Set<String> architectures = new TreeSet<>();
        if (n.has("architectures")) {
            JsonNode list = n.get("architectures");
            if (!list.isArray() || list.isEmpty()) {
                throw new PolicyException("gpu.architectures", "expected a non-empty list such as [HOPPER, BLACKWELL]");
            }
            for (int i = 0; i < list.size(); i++) {
                String a = list.get(i).asText("").toUpperCase(Locale.ROOT);
                if (!ARCHITECTURE.matcher(a).matches()) {
                    throw new PolicyException("gpu.architectures[" + i + "]", "an architecture name such as HOPPER");
                }
                architectures.add(a);
            }
        }
        Optional<String> minDriver = Optional.ofNullable(n.get("min-driver")).map(v -> v.isTextual() ? v.asText().trim() : "");
        // unquoted, YAML would read 550.100 as the number 550.1: only text is taken
        if (minDriver.isPresent() && !DRIVER_VERSION.matcher(minDriver.get()).matches()) {
            throw new PolicyException("gpu.min-driver", "a driver version such as '550.54.14' (quote it)");
        }
        Optional<String> minVbios = Optional.ofNullable(n.get("min-vbios"))
                .map(v -> v.isTextual() ? v.asText().trim().toUpperCase(Locale.ROOT) : "");
        if (minVbios.isPresent() && !VBIOS_VERSION.matcher(minVbios.get()).matches()) {
            throw new PolicyException("gpu.min-vbios", "a VBIOS version such as '96.00.5E.00.01'");
        }
        return new GpuRules(required, Set.copyOf(architectures), minDriver, minVbios);
    }

    /** The SNP TCB components a strict policy sets a minimum for (Turin's fmc only where the platform has it). */
    static final List<String> STRICT_MIN_TCB = List.of("bootloader", "tee", "snp", "microcode");
    /** The RTMRs a strict policy pins for bare TDX: firmware configuration, kernel, command line and initrd. */
    static final List<String> STRICT_RTMRS = List.of("rtmr0", "rtmr1", "rtmr2");

    /**
     * What a policy that refuses simulated evidence must say about SNP: who the workload is beyond
     * the shared guest image (HOST_DATA, on bare SNP; Azure's PCRs are required anyway), and a
     * minimum for every TCB component, so no firmware level is accepted by omission.
     */
    private static void requireStrict(SnpRules r, TeeType tee) {
        String prefix = "tee." + tee.id() + ".";
        if (tee == TeeType.SNP && r.hostData().isEmpty()) {
            throw new PolicyException(prefix + "host-data", "required unless allow-simulated: true: the launch measurement "
                    + "covers the shared guest image, not the container; pin the SHA-256 of the pod's init-data "
                    + "(docs/deployment.md, section 3)");
        }
        for (String component : STRICT_MIN_TCB) {
            if (!r.minTcb().containsKey(component)) {
                throw new PolicyException(prefix + "min-tcb." + component, "required unless allow-simulated: true: set a "
                        + "minimum for each of " + STRICT_MIN_TCB + " (AMD's security bulletins name the fixed levels)");
            }
        }
    }

    /** As for SNP: bare TDX names the workload by MRCONFIGID (the init-data's SHA-384) and the boot RTMRs. */
    private static void requireStrict(TdxRules r) {
        for (String register : java.util.stream.Stream.concat(java.util.stream.Stream.of("mrconfigid"),
                STRICT_RTMRS.stream()).toList()) {
            if (!r.registers().containsKey(register)) {
                throw new PolicyException("tee.tdx." + register, "required unless allow-simulated: true: MRTD covers the "
                        + "shared guest image only; pin mrconfigid (the SHA-384 of the pod's init-data) and "
                        + STRICT_RTMRS + " (firmware configuration, kernel, command line and initrd)");
            }
        }
    }

    /** The TDX registers a mapping pins (RTMRs, MRCONFIGID, MROWNER, MROWNERCONFIG; each optional). */
    private static Map<String, Set<String>> tdxRegisters(JsonNode n, String prefix) {
        Map<String, Set<String>> registers = new TreeMap<>();
        for (String r : TDX_REGISTERS) {
            if (n.has(r)) {
                registers.put(r, hexList(n.get(r), prefix + r, 96, true));
            }
        }
        return Map.copyOf(registers);
    }

    private static TdxRules tdxRules(JsonNode n, TeeType tee) {
        String prefix = "tee." + tee.id() + ".";
        onlyKeys(n, tee.azure() ? union(TDX_KEYS, AZURE_KEYS) : TDX_KEYS, prefix);
        Set<String> mrtd = hexList(n.get("mrtd"), prefix + "mrtd", 96, true);
        Map<String, Set<String>> registers = tdxRegisters(n, prefix);
        Set<String> statuses = new TreeSet<>(Set.of("UpToDate"));
        if (n.has("accepted-tcb-status")) {
            statuses.clear();
            JsonNode list = n.get("accepted-tcb-status");
            if (!list.isArray() || list.isEmpty()) {
                throw new PolicyException(prefix + "accepted-tcb-status", "expected a non-empty list");
            }
            for (int i = 0; i < list.size(); i++) {
                String s = list.get(i).asText();
                if (!TCB_STATUSES.contains(s)) {
                    throw new PolicyException(prefix + "accepted-tcb-status[" + i + "]", "'" + s + "' is not one of " + new TreeSet<>(TCB_STATUSES));
                }
                statuses.add(s);
            }
        }
        Map<String, Integer> minTcb = new TreeMap<>();
        JsonNode tcb = n.get("min-tcb");
        if (tcb != null) {
            if (!tcb.isObject()) {
                throw new PolicyException(prefix + "min-tcb", "expected a mapping of " + new TreeSet<>(TDX_TCB_COMPONENTS.keySet())
                        + " to minimum SVNs");
            }
            onlyKeys(tcb, TDX_TCB_COMPONENTS.keySet(), prefix + "min-tcb.");
            tcb.fields().forEachRemaining(e -> {
                if (!e.getValue().isIntegralNumber() || e.getValue().asInt() < 0 || e.getValue().asInt() > 255) {
                    throw new PolicyException(prefix + "min-tcb." + e.getKey(), "expected an SVN from 0 to 255");
                }
                minTcb.put(e.getKey(), e.getValue().asInt());
            });
        }
        return new TdxRules(mrtd, registers, Set.copyOf(statuses), bool(n, "allow-debug", prefix + "allow-debug"),
                azurePcrs(n, tee), Map.copyOf(minTcb), bool(n, "allow-sept-ve", prefix + "allow-sept-ve"),
                vmConfiguration(n, tee));
    }

    /**
     * The PCRs an Azure section pins, required there: Azure's launch measurement is its paravisor's,
     * the same for every VM of a generation, so the workload is identified by its vTPM PCRs alone.
     */
    private static Map<Integer, Set<String>> azurePcrs(JsonNode n, TeeType tee) {
        if (!tee.azure()) {
            return Map.of();
        }
        String field = "tee." + tee.id() + ".pcrs";
        if (!n.has("pcrs")) {
            throw new PolicyException(field, "required: on Azure the launch measurement is the paravisor's, the same "
                    + "for every VM, so the workload is identified by its vTPM PCRs; pin at least one");
        }
        return pcrs(n.get("pcrs"), field);
    }

    /**
     * A strict policy's PCR pins must cover the boot chain ({@link #STRICT_PCRS} and one of
     * {@link #STRICT_PCRS_ONE_OF}): one pinned PCR of a stock image identifies every VM booted from it.
     */
    private static void requireStrictPcrs(Map<Integer, Set<String>> pcrs, String field) {
        for (int i : STRICT_PCRS) {
            if (!pcrs.containsKey(i)) {
                throw new PolicyException(field + "." + i, "required unless allow-simulated: true: pin PCRs " + STRICT_PCRS
                        + " and one of " + STRICT_PCRS_ONE_OF + ", so the boot loader, Secure Boot state and kernel are the "
                        + "workload's, not any VM's");
            }
        }
        if (STRICT_PCRS_ONE_OF.stream().noneMatch(pcrs::containsKey)) {
            throw new PolicyException(field, "required unless allow-simulated: true: pin one of " + STRICT_PCRS_ONE_OF
                    + " (kernel command line, initrd or unified kernel image) besides " + STRICT_PCRS);
        }
    }

    /**
     * {@code min-abi: "1.55"}: the lowest firmware ABI (major.minor) the guest policy may demand.
     * The firmware refuses to launch a guest whose policy demands more than it implements, so a
     * guest policy at or above the minimum means firmware at or above it.
     */
    private static Optional<int[]> minAbi(JsonNode n, String prefix) {
        if (!n.has("min-abi")) {
            return Optional.empty();
        }
        JsonNode v = n.get("min-abi");
        String text = v.isTextual() ? v.asText().trim() : "";
        if (!text.matches("(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\\.(25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})")) {
            throw new PolicyException(prefix + "min-abi", "a firmware ABI 'major.minor' such as '1.55', quoted");
        }
        String[] parts = text.split("\\.");
        return Optional.of(new int[] {Integer.parseInt(parts[0]), Integer.parseInt(parts[1])});
    }

    /**
     * {@code vm-configuration:} in an Azure section: settings of the runtime claims' vm-configuration
     * (secure-boot, console-enabled, tpm-enabled, ...) and the value each must have.
     */
    private static Map<String, Boolean> vmConfiguration(JsonNode n, TeeType tee) {
        if (!tee.azure() || !n.has("vm-configuration")) {
            return Map.of();
        }
        String field = "tee." + tee.id() + ".vm-configuration";
        JsonNode m = n.get("vm-configuration");
        if (!m.isObject() || m.isEmpty()) {
            throw new PolicyException(field, "expected a mapping such as {secure-boot: true, console-enabled: false}");
        }
        Map<String, Boolean> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().matches("[a-z][a-z-]{0,39}") || !e.getValue().isBoolean()) {
                throw new PolicyException(field + "." + e.getKey(), "a setting name of lower-case letters and '-' with true "
                        + "or false");
            }
            out.put(e.getKey(), e.getValue().asBoolean());
        }
        return Map.copyOf(out);
    }

    /** {@code pcrs:} PCR index (0 to 15) to the SHA-256 values (64 hex digits) it may hold. */
    private static Map<Integer, Set<String>> pcrs(JsonNode n, String field) {
        if (!n.isObject() || n.isEmpty()) {
            throw new PolicyException(field, "expected a mapping of PCR index (0 to 15) to a list of 64-hex-digit values");
        }
        Map<Integer, Set<String>> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().matches("[0-9]|1[0-5]")) {
                throw new PolicyException(field + "." + e.getKey(), "a PCR index is 0 to 15, written without leading zeros: "
                        + "PCRs 16 to 23 can be reset or extended by software in the guest (debug, DRTM, application), so "
                        + "they identify nothing");
            }
            out.put(Integer.parseInt(e.getKey()), hexList(e.getValue(), field + "." + e.getKey(), 64, true));
        }
        return Map.copyOf(out);
    }

    /**
     * Decides on verified claims. Throws for exactly one reason, checked in this order: TEE type,
     * simulated, report_data binding, debug, migration agent, measurements, TCB, TCB status, model,
     * evidence age.
     */
    public void check(AttestedClaims claims, byte[] expectedReportData, byte[] modelDigest, Instant now)
            throws AttestationException {
        check(claims, expectedReportData, List.of(modelDigest), now);
    }

    /** As {@link #check(AttestedClaims, byte[], byte[], Instant)} for a worker serving several models: each must be allowed. */
    public void check(AttestedClaims claims, byte[] expectedReportData, List<byte[]> modelDigests, Instant now)
            throws AttestationException {
        Workload workers = claims.tee().hardware() == TeeType.SNP
                ? snpRules(claims.tee()).map(r -> new Workload("", r.measurements(), r.hostData(), Map.of(), r.pcrs()))
                        .orElse(Workload.NONE)
                : tdxRules(claims.tee()).map(r -> new Workload("", r.mrtd(), Set.of(), r.registers(), r.pcrs()))
                        .orElse(Workload.NONE);
        checkPlatform(claims, expectedReportData, workers, "SHA-512(nonce || tee_public_key || model_digest) for this "
                + "nonce, key and model");
        for (byte[] modelDigest : modelDigests) {
            String model = HexFormat.of().formatHex(modelDigest);
            if (!models.contains(model)) {
                throw new AttestationException(AttestationFailure.MODEL_NOT_ALLOWED, "model digest " + model
                        + " is not in policy '" + name + "'; load an approved model");
            }
        }
        checkAge(claims, now);
    }

    /**
     * Decides on the key broker's claims (a client's check of the broker, peer handover, owner
     * recovery): the platform rules of {@code tee:} as for a worker (simulated, debug, migration
     * agent, TCB), its workload identity from {@code key-broker:} (a measurement among its
     * measurements, and its HOST_DATA or RTMRs where listed), and, when {@code now} is present, the
     * evidence age. {@code now} is empty only for the custody record, which states what a genuine
     * broker did when it escrowed the root, however long ago.
     */
    public void checkKeyBroker(AttestedClaims claims, byte[] expectedReportData, Optional<Instant> now)
            throws AttestationException {
        if (keyBroker.measurements().isEmpty()) {
            throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "policy '" + name + "' lists no "
                    + "key-broker.measurements, so no key-broker replica can be trusted with custody");
        }
        if (!allowSimulated && claims.tee() == TeeType.SNP && keyBroker.hostData().isEmpty()) {
            throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "policy '" + name + "' pins no "
                    + "key-broker.host-data, so nothing identifies the key broker's workload within its guest image; "
                    + "pin the SHA-256 of the broker pod's init-data");
        }
        if (!allowSimulated && claims.tee() == TeeType.TDX && !keyBroker.registers().containsKey("mrconfigid")) {
            throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "policy '" + name + "' pins no "
                    + "key-broker.mrconfigid, so nothing identifies the key broker's workload within its guest image; "
                    + "pin the SHA-384 of the broker pod's init-data");
        }
        checkPlatform(claims, expectedReportData, new Workload("key-broker.", keyBroker.measurements(), keyBroker.hostData(),
                keyBroker.registers(), keyBroker.pcrs()), "the binding of this step (nonce, keys, policy id)");
        if (now.isPresent()) {
            checkAge(claims, now.get());
        }
    }

    /**
     * Decides on the verified GPUs beside a worker ({@code gpu:}): present if required, of an
     * allowed architecture, at or above the minimum driver and VBIOS versions. Without a {@code gpu:}
     * section, GPU evidence is not needed and not judged.
     *
     * @param gpus what each GPU's verified evidence says
     */
    public void checkGpus(List<GpuClaims> gpus) throws AttestationException {
        if (gpu.isEmpty()) {
            return;
        }
        GpuRules rules = gpu.get();
        if (rules.required() && gpus.isEmpty()) {
            throw new AttestationException(AttestationFailure.GPU_NOT_ATTESTED, "policy '" + name + "' requires attested "
                    + "GPUs (gpu.required) and the worker sent no GPU evidence; run it with its GPUs in confidential-computing mode");
        }
        for (GpuClaims g : gpus) {
            if (!rules.architectures().isEmpty() && !rules.architectures().contains(g.architecture())) {
                throw new AttestationException(AttestationFailure.GPU_NOT_ALLOWED, "a " + g.architecture() + " GPU is not "
                        + "among gpu.architectures " + new TreeSet<>(rules.architectures()));
            }
            if (rules.minDriver().isPresent() && (g.driverVersion().isEmpty()
                    || compareVersions(g.driverVersion().get(), rules.minDriver().get(), 10) < 0)) {
                throw new AttestationException(AttestationFailure.GPU_NOT_ALLOWED, "GPU driver " + g.driverVersion()
                        .orElse("(not reported)") + " is below gpu.min-driver " + rules.minDriver().get() + "; update the driver");
            }
            if (rules.minVbios().isPresent() && (g.vbiosVersion().isEmpty()
                    || compareVersions(g.vbiosVersion().get(), rules.minVbios().get(), 16) < 0)) {
                throw new AttestationException(AttestationFailure.GPU_NOT_ALLOWED, "GPU VBIOS " + g.vbiosVersion()
                        .orElse("(not reported)") + " is below gpu.min-vbios " + rules.minVbios().get() + "; update the VBIOS");
            }
        }
    }

    /** Dotted versions compared component by component in {@code radix}; a missing component counts as 0. */
    static int compareVersions(String a, String b, int radix) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long xi = i < x.length ? parseComponent(x[i], radix) : 0;
            long yi = i < y.length ? parseComponent(y[i], radix) : 0;
            if (xi != yi) {
                return Long.compare(xi, yi);
            }
        }
        return 0;
    }

    private static long parseComponent(String s, int radix) {
        try {
            return Long.parseLong(s.trim(), radix);
        } catch (NumberFormatException e) {
            return -1; // an unreadable component is below every minimum
        }
    }

    /** The GPU rules; empty when the policy has no {@code gpu:} section. */
    public Optional<GpuRules> gpu() {
        return gpu;
    }

    private void checkAge(AttestedClaims claims, Instant now) throws AttestationException {
        if (claims.signedAt().isPresent() && claims.signedAt().get().plus(maxEvidenceAge).isBefore(now)) {
            throw new AttestationException(AttestationFailure.EVIDENCE_TOO_OLD, "the evidence was made at "
                    + claims.signedAt().get() + ", more than " + maxEvidenceAge.toSeconds() + " s ago");
        }
    }

    /**
     * Who a party is: launch measurements, and the HOST_DATA (SNP) or RTMRs, MRCONFIGID, MROWNER and
     * MROWNERCONFIG (TDX) its launch must carry where listed; {@code field} prefixes the policy field
     * in messages ("" for the workers' {@code tee:} rules, {@code key-broker.} for the broker's).
     */
    private record Workload(String field, Set<String> measurements, Set<String> hostData,
                            Map<String, Set<String>> registers, Map<Integer, Set<String>> pcrs) {
        static final Workload NONE = new Workload("", Set.of(), Set.of(), Map.of(), Map.of());
    }

    /** The rules for SNP-based evidence of this type: {@code tee.snp} or {@code tee.azure-snp}. */
    private Optional<SnpRules> snpRules(TeeType tee) {
        return tee == TeeType.SNP ? snp : tee == TeeType.AZURE_SNP ? azureSnp : Optional.empty();
    }

    /** The rules for TDX-based evidence of this type: {@code tee.tdx} or {@code tee.azure-tdx}. */
    private Optional<TdxRules> tdxRules(TeeType tee) {
        return tee == TeeType.TDX ? tdx : tee == TeeType.AZURE_TDX ? azureTdx : Optional.empty();
    }

    private void checkPlatform(AttestedClaims claims, byte[] expectedReportData, Workload workload, String binding)
            throws AttestationException {
        boolean snpEvidence = claims.tee().hardware() == TeeType.SNP;
        Optional<SnpRules> snpRules = snpRules(claims.tee());
        Optional<TdxRules> tdxRules = tdxRules(claims.tee());
        if ((snpEvidence && snpRules.isEmpty()) || (!snpEvidence && tdxRules.isEmpty())) {
            throw new AttestationException(AttestationFailure.TEE_NOT_ALLOWED, "policy '" + name + "' has no rules for "
                    + claims.tee().id() + " evidence (tee." + claims.tee().id() + ")");
        }
        if (claims.simulated() && !allowSimulated) {
            throw new AttestationException(AttestationFailure.SIMULATED_NOT_ALLOWED, "the evidence comes from the "
                    + "simulated TEE and policy '" + name + "' does not say allow-simulated: true");
        }
        if (!ReportDataBinding.matches(expectedReportData, claims)) {
            throw new AttestationException(AttestationFailure.REPORT_DATA_MISMATCH, "report_data is not " + binding);
        }
        boolean allowDebug = snpEvidence ? snpRules.get().allowDebug() : tdxRules.get().allowDebug();
        if (claims.debug() && !allowDebug) {
            throw new AttestationException(AttestationFailure.DEBUG_ENABLED, "the guest can be debugged, so its "
                    + "memory is readable by the host; launch it with debugging disabled");
        }
        if (snpEvidence && claims.migrationAgent() && !snpRules.get().allowMigrationAgent()) {
            throw new AttestationException(AttestationFailure.MIGRATION_AGENT_ENABLED,
                    "the guest policy allows a migration agent; launch it without MIGRATE_MA");
        }
        String measurement = claims.measurementHex();
        if (!workload.measurements().contains(measurement)) {
            throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "launch measurement "
                    + measurement + " is not in policy '" + name + "'" + (workload.field().isEmpty() ? ""
                    : " (" + workload.field() + "measurements)"));
        }
        if (claims.tee().azure()) {
            checkPcrs(claims, workload);
            checkVmConfiguration(claims, snpEvidence ? snpRules.get().vmConfiguration() : tdxRules.get().vmConfiguration());
        }
        if (snpEvidence) {
            checkSnpExtras(claims, workload, snpRules.get());
        } else {
            checkTdxExtras(claims, workload, tdxRules.get());
        }
    }

    /** The section a workload's identity is pinned in, for messages: {@code tee.snp.}, {@code key-broker.}, ... */
    private static String section(AttestedClaims claims, Workload workload) {
        return workload.field().isEmpty() ? "tee." + claims.tee().id() + "." : workload.field();
    }

    /**
     * Azure evidence names its workload by vTPM PCRs only (its launch measurement is the
     * paravisor's): each pinned PCR must hold an allowed value, and a party with none pinned is refused.
     */
    private void checkPcrs(AttestedClaims claims, Workload workload) throws AttestationException {
        if (workload.pcrs().isEmpty()) {
            throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "policy '" + name + "' pins no "
                    + section(claims, workload) + "pcrs, so nothing identifies the workload in this Azure VM; pin the "
                    + "PCRs its boot chain measures");
        }
        for (Map.Entry<Integer, Set<String>> pin : new TreeMap<>(workload.pcrs()).entrySet()) {
            byte[] value = claims.extraMeasurements().get("pcr" + pin.getKey());
            String hex = value == null ? "(not quoted)" : HexFormat.of().formatHex(value);
            if (!pin.getValue().contains(hex)) {
                throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "PCR " + pin.getKey() + " " + hex
                        + " is not in policy '" + name + "' (" + section(claims, workload) + "pcrs." + pin.getKey() + ")");
            }
        }
    }

    /** Each setting the Azure section names must have its value in the runtime claims' vm-configuration. */
    private void checkVmConfiguration(AttestedClaims claims, Map<String, Boolean> required) throws AttestationException {
        for (Map.Entry<String, Boolean> r : new TreeMap<>(required).entrySet()) {
            Long value = claims.properties().get("vm_" + r.getKey().replace('-', '_'));
            if (value == null || (value != 0) != r.getValue()) {
                throw new AttestationException(AttestationFailure.VM_CONFIGURATION_NOT_ALLOWED, "the VM's " + r.getKey() + " is "
                        + (value == null ? "not reported" : value != 0) + ", and policy '" + name + "' requires "
                        + r.getValue() + " (tee." + claims.tee().id() + ".vm-configuration)");
            }
        }
    }

    private void checkSnpExtras(AttestedClaims claims, Workload workload, SnpRules rules) throws AttestationException {
        if (!workload.hostData().isEmpty()) {
            String hostData = HexFormat.of().formatHex(claims.extraMeasurements().getOrDefault("host_data", new byte[32]));
            if (!workload.hostData().contains(hostData)) {
                throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, "host_data " + hostData
                        + " is not in policy '" + name + "' (" + section(claims, workload) + "host-data)");
            }
        }
        long vmpl = claims.properties().getOrDefault("vmpl", 0L);
        if (vmpl > rules.maxVmpl()) {
            throw new AttestationException(AttestationFailure.VMPL_NOT_ALLOWED, "the report was asked for at VMPL " + vmpl
                    + ", above tee.snp.max-vmpl " + rules.maxVmpl() + ": software below the guest's most privileged "
                    + "level (a paravisor, an SVSM) could have made it; ask for it at VMPL " + rules.maxVmpl());
        }
        if (!rules.allowSmt() && claims.properties().getOrDefault("smt_allowed", 0L) != 0) {
            throw new AttestationException(AttestationFailure.SMT_NOT_ALLOWED, "the guest policy allows SMT and policy '"
                    + name + "' says allow-smt: false; launch the guest with SMT off");
        }
        if (rules.minAbi().isPresent()) {
            int[] min = rules.minAbi().get();
            long major = claims.properties().getOrDefault("abi_major", 0L);
            long minor = claims.properties().getOrDefault("abi_minor", 0L);
            if (major < min[0] || (major == min[0] && minor < min[1])) {
                throw new AttestationException(AttestationFailure.TCB_TOO_LOW, "the guest policy demands firmware ABI "
                        + major + "." + minor + ", below tee." + claims.tee().id() + ".min-abi " + min[0] + "." + min[1]
                        + "; launch the guest with a policy "
                        + "that requires at least that firmware");
            }
        }
        for (Map.Entry<String, Integer> min : rules.minTcb().entrySet()) {
            Integer value = claims.tcb().get(min.getKey());
            if (value == null) {
                // a minimum the evidence cannot show is not met: a Milan report has no fmc
                throw new AttestationException(AttestationFailure.TCB_TOO_LOW, "the evidence reports no TCB component "
                        + min.getKey() + ", for which policy '" + name + "' sets a minimum; remove it for this platform");
            }
            if (value < min.getValue()) {
                throw new AttestationException(AttestationFailure.TCB_TOO_LOW, "TCB component " + min.getKey() + " is "
                        + value + ", below the minimum " + min.getValue() + "; update the platform firmware");
            }
        }
    }

    private void checkTdxExtras(AttestedClaims claims, Workload workload, TdxRules rules) throws AttestationException {
        long attributes = claims.properties().getOrDefault("td_attributes", 0L);
        if (!rules.allowSeptVe() && (attributes & SEPT_VE_DISABLE) == 0) {
            throw new AttestationException(AttestationFailure.TD_ATTRIBUTES_NOT_ALLOWED, "the TD does not set "
                    + "SEPT_VE_DISABLE (attributes 0x" + Long.toHexString(attributes) + "), so the host can inject #VE "
                    + "exceptions through EPT violations; launch it with SEPT_VE_DISABLE, or set tee." + claims.tee().id()
                    + ".allow-sept-ve: true");
        }
        for (Map.Entry<String, Integer> min : new TreeMap<>(rules.minTcb()).entrySet()) {
            Integer value = claims.tcb().get("tee_tcb_svn_" + TDX_TCB_COMPONENTS.get(min.getKey()));
            if (value == null || value < min.getValue()) {
                throw new AttestationException(AttestationFailure.TCB_TOO_LOW, "TDX " + min.getKey() + " SVN is "
                        + (value == null ? "not reported" : value) + ", below the minimum " + min.getValue()
                        + "; update the TDX module");
            }
        }
        for (Map.Entry<String, Set<String>> r : workload.registers().entrySet()) {
            byte[] value = claims.extraMeasurements().get(r.getKey());
            String hex = value == null ? "(absent)" : HexFormat.of().formatHex(value);
            if (!r.getValue().contains(hex)) {
                throw new AttestationException(AttestationFailure.UNKNOWN_MEASUREMENT, r.getKey() + " " + hex
                        + " is not in policy '" + name + "' (" + section(claims, workload) + r.getKey() + ")");
            }
        }
        String status = claims.tcbStatus().orElse(null);
        if (status == null) {
            // without collateral nothing says the platform is patched: a TDX policy needs a status
            throw new AttestationException(AttestationFailure.TCB_STATUS_NOT_ACCEPTED, "the quote was verified "
                    + "without TCB Info and QE Identity collateral for its platform, so it has no TCB status; policy '"
                    + name + "' accepts " + new TreeSet<>(rules.acceptedTcbStatus()) + ": supply the collateral");
        }
        if (!rules.acceptedTcbStatus().contains(status)) {
            throw new AttestationException(AttestationFailure.TCB_STATUS_NOT_ACCEPTED, "TCB status " + status
                    + " is not among " + new TreeSet<>(rules.acceptedTcbStatus()));
        }
    }

    /**
     * The canonical form whose SHA-256 is the id, as docs/attestation.md ("Policy id") specifies
     * it: for auditors and other implementations to compare with their own.
     */
    public String canonicalJson() {
        return canonicalJson;
    }

    /** Lower-case hex SHA-256 of the canonical form: what clients pin. */
    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    public boolean allowsSimulated() {
        return allowSimulated;
    }

    public Duration maxEvidenceAge() {
        return maxEvidenceAge;
    }

    /** The model digests (SHA-256 hex) workers may serve: what clients can check they will get. */
    public Set<String> allowedModelDigests() {
        return models;
    }

    /**
     * The worker pools and the model names each serves, by pool name; empty when the policy names
     * no pools (one pool serves every model).
     */
    public Map<String, Set<String>> pools() {
        return pools;
    }

    /** The pool that serves {@code model}, if the policy names pools and one lists it. */
    public Optional<String> poolServing(String model) {
        return pools.entrySet().stream().filter(e -> e.getValue().contains(model)).map(Map.Entry::getKey).findFirst();
    }

    /** What key-broker replicas must show; empty rules when the policy has no {@code key-broker:} section. */
    public KeyBrokerRules keyBroker() {
        return keyBroker;
    }

    public Optional<SnpRules> snp() {
        return snp;
    }

    public Optional<TdxRules> tdx() {
        return tdx;
    }

    /** The rules for Azure SEV-SNP confidential VMs ({@code tee.azure-snp}). */
    public Optional<SnpRules> azureSnp() {
        return azureSnp;
    }

    /** The rules for Azure TDX confidential VMs ({@code tee.azure-tdx}). */
    public Optional<TdxRules> azureTdx() {
        return azureTdx;
    }

    /** The canonical form as YAML: sorted keys and lists, lower-case hex, durations in seconds. */
    public String toYaml() {
        try {
            return YAML.writeValueAsString(JSON.readTree(canonicalJson));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ObjectNode canonical() {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("allow-simulated", allowSimulated);
        gpu.ifPresent(g -> {
            ObjectNode n = f.objectNode();
            if (!g.architectures().isEmpty()) {
                n.set("architectures", sortedArray(g.architectures()));
            }
            g.minDriver().ifPresent(v -> n.put("min-driver", v));
            g.minVbios().ifPresent(v -> n.put("min-vbios", v));
            n.put("required", g.required());
            root.set("gpu", n);
        });
        root.put("max-evidence-age", maxEvidenceAge.toSeconds() + "s");
        root.set("models", sortedArray(models));
        root.put("name", name);
        if (!pools.isEmpty()) {
            ObjectNode p = f.objectNode();
            pools.forEach((pool, names) -> p.set(pool, sortedArray(names)));
            root.set("pools", p);
        }
        if (!keyBroker.measurements().isEmpty() || !keyBroker.hostData().isEmpty() || !keyBroker.registers().isEmpty()
                || !keyBroker.pcrs().isEmpty() || keyBroker.recoveryKey().isPresent()) {
            ObjectNode kb = f.objectNode();
            if (!keyBroker.hostData().isEmpty()) {
                kb.set("host-data", sortedArray(keyBroker.hostData()));
            }
            if (!keyBroker.measurements().isEmpty()) {
                kb.set("measurements", sortedArray(keyBroker.measurements()));
            }
            keyBroker.recoveryKey().ifPresent(k -> kb.put("recovery-key", java.util.Base64.getEncoder().encodeToString(k)));
            keyBroker.registers().forEach((k, v) -> kb.set(k, sortedArray(v)));
            if (!keyBroker.pcrs().isEmpty()) {
                kb.set("pcrs", pcrsNode(keyBroker.pcrs()));
            }
            root.set("key-broker", sortedMembers(kb));
        }
        ObjectNode tee = f.objectNode();
        snp.ifPresent(s -> tee.set("snp", canonical(s)));
        tdx.ifPresent(t -> tee.set("tdx", canonical(t)));
        azureSnp.ifPresent(s -> tee.set("azure-snp", canonical(s)));
        azureTdx.ifPresent(t -> tee.set("azure-tdx", canonical(t)));
        root.set("tee", sortedMembers(tee));
        root.put("version", 1);
        return root;
    }

    private static ObjectNode canonical(SnpRules s) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("allow-debug", s.allowDebug());
        n.put("allow-migration-agent", s.allowMigrationAgent());
        if (!s.hostData().isEmpty()) {
            n.set("host-data", sortedArray(s.hostData()));
        }
        n.set("measurements", sortedArray(s.measurements()));
        if (!s.minTcb().isEmpty()) {
            ObjectNode tcb = JsonNodeFactory.instance.objectNode();
            new TreeMap<>(s.minTcb()).forEach(tcb::put);
            n.set("min-tcb", tcb);
        }
        // members added after the first ids were pinned appear only when not at their default, so
        // a policy that does not use them keeps its id
        if (s.maxVmpl() != 0) {
            n.put("max-vmpl", s.maxVmpl());
        }
        if (!s.allowSmt()) {
            n.put("allow-smt", false);
        }
        if (!s.pcrs().isEmpty()) {
            n.set("pcrs", pcrsNode(s.pcrs()));
        }
        vmConfigurationNode(s.vmConfiguration()).ifPresent(v -> n.set("vm-configuration", v));
        s.minAbi().ifPresent(v -> n.put("min-abi", v[0] + "." + v[1]));
        return sortedMembers(n);
    }

    private static ObjectNode canonical(TdxRules t) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.set("accepted-tcb-status", sortedArray(t.acceptedTcbStatus()));
        n.put("allow-debug", t.allowDebug());
        n.set("mrtd", sortedArray(t.mrtd()));
        t.registers().forEach((k, v) -> n.set(k, sortedArray(v)));
        if (!t.pcrs().isEmpty()) {
            n.set("pcrs", pcrsNode(t.pcrs()));
        }
        if (!t.minTcb().isEmpty()) {
            ObjectNode tcb = JsonNodeFactory.instance.objectNode();
            new TreeMap<>(t.minTcb()).forEach(tcb::put);
            n.set("min-tcb", tcb);
        }
        if (t.allowSeptVe()) {
            n.put("allow-sept-ve", true);
        }
        vmConfigurationNode(t.vmConfiguration()).ifPresent(v -> n.set("vm-configuration", v));
        return sortedMembers(n);
    }

    private static Optional<ObjectNode> vmConfigurationNode(Map<String, Boolean> settings) {
        if (settings.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        new TreeMap<>(settings).forEach(n::put);
        return Optional.of(n);
    }

    /** PCR pins as an object whose member names are the decimal indices, sorted as all names are (byte order). */
    private static ObjectNode pcrsNode(Map<Integer, Set<String>> pcrs) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        pcrs.forEach((i, v) -> n.set(Integer.toString(i), sortedArray(v)));
        return sortedMembers(n);
    }

    /** {@code n}'s members in ascending order of their names (ASCII names: byte order). */
    private static ObjectNode sortedMembers(ObjectNode n) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        new TreeMap<String, JsonNode>(n.properties().stream().collect(Collectors.toMap(Map.Entry::getKey,
                Map.Entry::getValue))).forEach(out::set);
        return out;
    }

    private static ArrayNode sortedArray(Set<String> values) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        new TreeSet<>(values).forEach(a::add);
        return a;
    }

    private static void onlyKeys(JsonNode node, Set<String> allowed, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new PolicyException(prefix + k, "unknown field; expected one of " + new TreeSet<>(allowed));
            }
        }
    }

    private static boolean bool(JsonNode parent, String key, String field) {
        JsonNode n = parent.get(key);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new PolicyException(field, "expected true or false");
        }
        return n.asBoolean();
    }

    private static Set<String> hexList(JsonNode list, String field, int digits, boolean required) {
        if (list == null || list.isNull()) {
            if (required) {
                throw new PolicyException(field, "required: a list of " + digits + "-hex-digit values");
            }
            return Set.of();
        }
        if (!list.isArray() || (required && list.isEmpty())) {
            throw new PolicyException(field, "expected a non-empty list of " + digits + "-hex-digit values");
        }
        Set<String> out = new TreeSet<>();
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isTextual()) {
                throw new PolicyException(field + "[" + i + "]", "YAML read this value as a number; quote it");
            }
            String v = list.get(i).asText().toLowerCase(Locale.ROOT).trim();
            if (!v.matches("[0-9a-f]{" + digits + "}")) {
                throw new PolicyException(field + "[" + i + "]", "expected " + digits + " hex digits");
            }
            out.add(v);
        }
        return Set.copyOf(out);
    }

    private static Duration duration(JsonNode n, String field) {
        String s = n.asText().trim();
        try {
            if (s.matches("\\d+[smh]")) {
                long v = Long.parseLong(s.substring(0, s.length() - 1));
                Duration d = switch (s.charAt(s.length() - 1)) {
                    case 's' -> Duration.ofSeconds(v);
                    case 'm' -> Duration.ofMinutes(v);
                    default -> Duration.ofHours(v);
                };
                if (!d.isZero()) {
                    return d;
                }
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        throw new PolicyException(field, "expected a positive duration such as 30s, 5m or 1h");
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "AttestationPolicy[name=" + name + ", id=" + id + ", allowSimulated=" + allowSimulated + "]";
    }

}
