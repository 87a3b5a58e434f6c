package io.sealstream.attestation.coco;

import com.fasterxml.jackson.databind.JsonNode;
import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.snp.SnpReport;
import java.math.BigInteger;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rebuilds the firmware's 1184 report bytes from the JSON the Confidential Containers attestation
 * agent sends for SEV-SNP: its {@code attestation_report} is the Rust {@code sev} crate's
 * {@code AttestationReport} as serde writes it, field by field, not the signed bytes. Two shapes
 * are known: the crate up to 5.x names every reserved field ({@code _author_key_en},
 * {@code _reserved_0} .. {@code _reserved_4}, {@code current_build}); from 6.x it drops them and
 * adds {@code key_info}, the CPUID bytes and {@code current} / {@code committed} versions. Each
 * field lands at its ABI offset (SEV-SNP ABI, ATTESTATION_REPORT); what a shape leaves out stays
 * zero, as the firmware writes reserved bytes. A field this table does not know is refused rather
 * than dropped: the rebuilt bytes would then not be the signed ones. The JSON is untrusted; the
 * signature over the rebuilt bytes decides, as it would over bytes read from the firmware.
 */
public final class AgentSnpReport {
    private static final Map<String, Field> COMMON = new LinkedHashMap<>();
    private static final Map<String, Field> CRATE_6 = new LinkedHashMap<>();
    private static final Map<String, Field> CRATE_5 = new LinkedHashMap<>();
    private static final Set<String> OPTIONAL = Set.of("cpuid_fam_id", "cpuid_mod_id", "cpuid_step",
            "launch_mit_vector", "current_mit_vector");

    static {
        COMMON.put("version", Field.number(0x000, 4));
        COMMON.put("guest_svn", Field.number(0x004, 4));
        COMMON.put("policy", Field.number(0x008, 8));
        COMMON.put("family_id", Field.bytes(0x010, 16));
        COMMON.put("image_id", Field.bytes(0x020, 16));
        COMMON.put("vmpl", Field.number(0x030, 4));
        COMMON.put("sig_algo", Field.number(0x034, 4));
        COMMON.put("current_tcb", Field.tcb(0x038));
        COMMON.put("plat_info", Field.number(0x040, 8));
        COMMON.put("report_data", Field.bytes(0x050, 64));
        COMMON.put("measurement", Field.bytes(0x090, 48));
        COMMON.put("host_data", Field.bytes(0x0C0, 32));
        COMMON.put("id_key_digest", Field.bytes(0x0E0, 48));
        COMMON.put("author_key_digest", Field.bytes(0x110, 48));
        COMMON.put("report_id", Field.bytes(0x140, 32));
        COMMON.put("report_id_ma", Field.bytes(0x160, 32));
        COMMON.put("reported_tcb", Field.tcb(0x180));
        COMMON.put("chip_id", Field.bytes(0x1A0, 64));
        COMMON.put("committed_tcb", Field.tcb(0x1E0));
        COMMON.put("launch_tcb", Field.tcb(0x1F0));
        COMMON.put("signature", Field.signature(0x2A0));

        CRATE_6.put("key_info", Field.number(0x048, 4));
        CRATE_6.put("cpuid_fam_id", Field.optionalByte(0x188));
        CRATE_6.put("cpuid_mod_id", Field.optionalByte(0x189));
        CRATE_6.put("cpuid_step", Field.optionalByte(0x18A));
        CRATE_6.put("current", Field.firmwareVersion(0x1E8));
        CRATE_6.put("committed", Field.firmwareVersion(0x1EC));
        CRATE_6.put("launch_mit_vector", Field.optionalNumber(0x1F8, 8));
        CRATE_6.put("current_mit_vector", Field.optionalNumber(0x200, 8));

        CRATE_5.put("_author_key_en", Field.number(0x048, 4));
        CRATE_5.put("_reserved_0", Field.number(0x04C, 4));
        CRATE_5.put("_reserved_1", Field.bytes(0x188, 24));
        CRATE_5.put("current_build", Field.number(0x1E8, 1));
        CRATE_5.put("current_minor", Field.number(0x1E9, 1));
        CRATE_5.put("current_major", Field.number(0x1EA, 1));
        CRATE_5.put("_reserved_2", Field.number(0x1EB, 1));
        CRATE_5.put("committed_build", Field.number(0x1EC, 1));
        CRATE_5.put("committed_minor", Field.number(0x1ED, 1));
        CRATE_5.put("committed_major", Field.number(0x1EE, 1));
        CRATE_5.put("_reserved_3", Field.number(0x1EF, 1));
        CRATE_5.put("_reserved_4", Field.bytes(0x1F8, 168));
    }

    private AgentSnpReport() {
    }

    /**
     * The report bytes {@code report} (the agent's {@code attestation_report} object) stands for.
     *
     * @throws AttestationException MALFORMED_EVIDENCE naming the field that is missing, unknown or
     *     out of range
     */
    public static byte[] toBytes(JsonNode report) throws AttestationException {
        if (report == null || !report.isObject()) {
            throw malformed("attestation_report is not a JSON object");
        }
        Map<String, Field> shape = new LinkedHashMap<>(COMMON);
        shape.putAll(report.has("key_info") ? CRATE_6 : CRATE_5);
        byte[] out = new byte[SnpReport.LENGTH];
        Set<String> seen = new HashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = report.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Field f = shape.get(e.getKey());
            if (f == null) {
                throw malformed("attestation_report has a field this build cannot place in the signed report: '"
                        + printable(e.getKey()) + "' (known: sev crate 1.x to 6.x); upgrade Sealstream, or pin the "
                        + "guest components to a release whose report this build reads (docs/deployment.md)");
            }
            f.write(e.getKey(), e.getValue(), out);
            seen.add(e.getKey());
        }
        for (String name : shape.keySet()) {
            if (!seen.contains(name) && !OPTIONAL.contains(name)) {
                throw malformed("attestation_report has no '" + name + "'");
            }
        }
        return out;
    }

    /** Report fields the given JSON leaves out that the firmware may have set: they are rebuilt as zero. */
    public static List<String> zeroFilled(JsonNode report) {
        int version = report.path("version").asInt();
        if (version < 5 || !report.has("key_info")) {
            return List.of();
        }
        return OPTIONAL.stream().filter(n -> n.endsWith("mit_vector") && !report.has(n)).sorted().toList();
    }

    static AttestationException malformed(String detail) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the attestation agent's SEV-SNP "
                + "evidence: " + detail);
    }

    private static String printable(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return t.replaceAll("[^A-Za-z0-9_.-]", "?");
    }

    /** Where one JSON field goes in the report, and how it is encoded. */
    @FunctionalInterface
    private interface Field {
        void write(String name, JsonNode value, byte[] out) throws AttestationException;

        /** A little-endian unsigned integer of {@code size} bytes. */
        static Field number(int offset, int size) {
            return (name, v, out) -> putLittleEndian(out, offset, size, unsigned(name, v, size));
        }

        /** An {@code Option<u8>}: null (absent in the report version) or a byte. */
        static Field optionalByte(int offset) {
            return (name, v, out) -> {
                if (!v.isNull()) {
                    out[offset] = (byte) unsigned(name, v, 1).intValue();
                }
            };
        }

        /** An {@code Option<u64>}. */
        static Field optionalNumber(int offset, int size) {
            return (name, v, out) -> {
                if (!v.isNull()) {
                    putLittleEndian(out, offset, size, unsigned(name, v, size));
                }
            };
        }

        /** A byte array as serde writes one: a JSON array of numbers 0..255. */
        static Field bytes(int offset, int length) {
            return (name, v, out) -> System.arraycopy(byteArray(name, v, length), 0, out, offset, length);
        }

        /**
         * A TCB_VERSION: {@code fmc} set means Turin's layout (fmc, bootloader, tee, snp at bytes
         * 0..3), otherwise Milan's and Genoa's (bootloader, tee at 0..1, snp, microcode at 6..7, the
         * crate up to 5.x naming bytes 2..5 {@code _reserved}); microcode is byte 7 in both.
         */
        static Field tcb(int offset) {
            return (name, v, out) -> {
                Map<String, JsonNode> f = object(name, v, Set.of("fmc", "bootloader", "tee", "snp", "microcode", "_reserved"),
                        Set.of("bootloader", "tee", "snp", "microcode"));
                JsonNode fmc = f.get("fmc");
                boolean turin = fmc != null && !fmc.isNull();
                if (turin && f.containsKey("_reserved")) {
                    throw malformed(name + " has both fmc (Turin's layout) and _reserved (Milan's)");
                }
                if (turin) {
                    out[offset] = byteOf(name + ".fmc", fmc);
                    out[offset + 1] = byteOf(name + ".bootloader", f.get("bootloader"));
                    out[offset + 2] = byteOf(name + ".tee", f.get("tee"));
                    out[offset + 3] = byteOf(name + ".snp", f.get("snp"));
                } else {
                    out[offset] = byteOf(name + ".bootloader", f.get("bootloader"));
                    out[offset + 1] = byteOf(name + ".tee", f.get("tee"));
                    if (f.containsKey("_reserved")) {
                        System.arraycopy(byteArray(name + "._reserved", f.get("_reserved"), 4), 0, out, offset + 2, 4);
                    }
                    out[offset + 6] = byteOf(name + ".snp", f.get("snp"));
                }
                out[offset + 7] = byteOf(name + ".microcode", f.get("microcode"));
            };
        }

        /** The crate's {@code Version}: {@code major}, {@code minor}, {@code build}, stored build first. */
        static Field firmwareVersion(int offset) {
            return (name, v, out) -> {
                Map<String, JsonNode> f = object(name, v, Set.of("major", "minor", "build"), Set.of("major", "minor", "build"));
                out[offset] = byteOf(name + ".build", f.get("build"));
                out[offset + 1] = byteOf(name + ".minor", f.get("minor"));
                out[offset + 2] = byteOf(name + ".major", f.get("major"));
            };
        }

        /** The signature: r and s, 72 little-endian bytes each; the crate up to 5.x adds the 368 reserved bytes. */
        static Field signature(int offset) {
            return (name, v, out) -> {
                Map<String, JsonNode> f = object(name, v, Set.of("r", "s", "_reserved"), Set.of("r", "s"));
                System.arraycopy(byteArray(name + ".r", f.get("r"), 72), 0, out, offset, 72);
                System.arraycopy(byteArray(name + ".s", f.get("s"), 72), 0, out, offset + 72, 72);
                if (f.containsKey("_reserved")) {
                    System.arraycopy(byteArray(name + "._reserved", f.get("_reserved"), 368), 0, out, offset + 144, 368);
                }
            };
        }
    }

    private static Map<String, JsonNode> object(String name, JsonNode v, Set<String> allowed, Set<String> required)
            throws AttestationException {
        if (v == null || !v.isObject()) {
            throw malformed(name + " is not a JSON object");
        }
        Map<String, JsonNode> fields = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!allowed.contains(e.getKey())) {
                throw malformed(name + " has an unknown field '" + printable(e.getKey()) + "'");
            }
            fields.put(e.getKey(), e.getValue());
        }
        for (String r : required) {
            if (!fields.containsKey(r)) {
                throw malformed(name + " has no '" + r + "'");
            }
        }
        return fields;
    }

    private static BigInteger unsigned(String name, JsonNode v, int size) throws AttestationException {
        if (v == null || !v.isIntegralNumber()) {
            throw malformed(name + " is not an integer");
        }
        BigInteger n = v.bigIntegerValue();
        if (n.signum() < 0 || n.bitLength() > size * 8) {
            throw malformed(name + " does not fit in " + size + " unsigned byte" + (size == 1 ? "" : "s"));
        }
        return n;
    }

    private static byte byteOf(String name, JsonNode v) throws AttestationException {
        return (byte) unsigned(name, v, 1).intValue();
    }

    private static byte[] byteArray(String name, JsonNode v, int length) throws AttestationException {
        if (v == null || !v.isArray() || v.size() != length) {
            throw malformed(name + " is not an array of " + length + " bytes");
        }
        return bytesOf(name, v);
    }

    /** A serde {@code Vec<u8>} (the certificate table's {@code data}): 1 to {@code maxLength} numbers 0..255. */
    static byte[] byteVector(String name, JsonNode v, int maxLength) throws AttestationException {
        if (v == null || !v.isArray() || v.isEmpty() || v.size() > maxLength) {
            throw malformed(name + " is not an array of 1 to " + maxLength + " bytes");
        }
        return bytesOf(name, v);
    }

    private static byte[] bytesOf(String name, JsonNode array) throws AttestationException {
        byte[] b = new byte[array.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = byteOf(name + "[" + i + "]", array.get(i));
        }
        return b;
    }

    private static void putLittleEndian(byte[] out, int offset, int size, BigInteger value) {
        long n = value.longValue();
        for (int i = 0; i < size; i++) {
            out[offset + i] = (byte) (n >>> (8 * i));
        }
    }
}
