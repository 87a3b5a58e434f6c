package io.sealstream.attestation.simulated;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

/**
 * Writes SEV-SNP report bytes as the Confidential Containers attestation agent sends them: the Rust
 * sev crate's {@code AttestationReport} through serde_json, in the field order of its struct
 * (6.x: no reserved fields, Turin TCBs with {@code fmc}; up to 5.x: every reserved field named).
 * For {@link SimulatedAttestationAgent} and for tests that feed real reports through the reader,
 * {@code coco.AgentSnpReport}.
 */
public final class SevCrateJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The crate's serde shapes. */
    public enum Shape {
        /** sev 6.x, as guest-components pins it: no mitigation vectors. */
        CRATE_6,
        /** sev 6.x with the version-5 mitigation vectors. */
        CRATE_6_WITH_MITIGATION_VECTORS,
        /** sev 1.x to 5.x: the raw layout with its reserved fields. */
        CRATE_5
    }

    private SevCrateJson() {
    }

    /** The {@code attestation_report} object for report bytes {@code r}. */
    public static ObjectNode report(byte[] r, Shape shape) {
        boolean crate6 = shape != Shape.CRATE_5;
        int version = (int) le(r, 0x000, 4).longValue();
        // the crate reads a TCB as Turin's when the report says family 0x1A (v3+) or, for v2, the chip id is Turin-like
        boolean turin = version >= 3 ? (r[0x188] & 0xFF) >= 0x1A
                : Arrays.equals(Arrays.copyOfRange(r, 0x1A8, 0x1E0), new byte[0x38]);
        ObjectNode o = JSON.createObjectNode();
        o.put("version", le(r, 0x000, 4));
        o.put("guest_svn", le(r, 0x004, 4));
        o.put("policy", le(r, 0x008, 8));
        o.set("family_id", bytes(r, 0x010, 16));
        o.set("image_id", bytes(r, 0x020, 16));
        o.put("vmpl", le(r, 0x030, 4));
        o.put("sig_algo", le(r, 0x034, 4));
        o.set("current_tcb", tcb(r, 0x038, crate6, turin && crate6));
        o.put("plat_info", le(r, 0x040, 8));
        if (crate6) {
            o.put("key_info", le(r, 0x048, 4));
        } else {
            o.put("_author_key_en", le(r, 0x048, 4));
            o.put("_reserved_0", le(r, 0x04C, 4));
        }
        o.set("report_data", bytes(r, 0x050, 64));
        o.set("measurement", bytes(r, 0x090, 48));
        o.set("host_data", bytes(r, 0x0C0, 32));
        o.set("id_key_digest", bytes(r, 0x0E0, 48));
        o.set("author_key_digest", bytes(r, 0x110, 48));
        o.set("report_id", bytes(r, 0x140, 32));
        o.set("report_id_ma", bytes(r, 0x160, 32));
        o.set("reported_tcb", tcb(r, 0x180, crate6, turin && crate6));
        if (crate6) {
            for (String[] f : List.of(new String[] {"cpuid_fam_id", "392"}, new String[] {"cpuid_mod_id", "393"},
                    new String[] {"cpuid_step", "394"})) {
                if (version >= 3) {
                    o.put(f[0], r[Integer.parseInt(f[1])] & 0xFF);
                } else {
                    o.putNull(f[0]);
                }
            }
        } else {
            o.set("_reserved_1", bytes(r, 0x188, 24));
        }
        o.set("chip_id", bytes(r, 0x1A0, 64));
        o.set("committed_tcb", tcb(r, 0x1E0, crate6, turin && crate6));
        if (crate6) {
            o.set("current", firmware(r, 0x1E8));
            o.set("committed", firmware(r, 0x1EC));
        } else {
            o.put("current_build", r[0x1E8] & 0xFF);
            o.put("current_minor", r[0x1E9] & 0xFF);
            o.put("current_major", r[0x1EA] & 0xFF);
            o.put("_reserved_2", r[0x1EB] & 0xFF);
            o.put("committed_build", r[0x1EC] & 0xFF);
            o.put("committed_minor", r[0x1ED] & 0xFF);
            o.put("committed_major", r[0x1EE] & 0xFF);
            o.put("_reserved_3", r[0x1EF] & 0xFF);
        }
        o.set("launch_tcb", tcb(r, 0x1F0, crate6, turin && crate6));
        if (shape == Shape.CRATE_6_WITH_MITIGATION_VECTORS) {
            o.put("launch_mit_vector", le(r, 0x1F8, 8));
            o.put("current_mit_vector", le(r, 0x200, 8));
        } else if (!crate6) {
            o.set("_reserved_4", bytes(r, 0x1F8, 168));
        }
        ObjectNode sig = JSON.createObjectNode();
        sig.set("r", bytes(r, 0x2A0, 72));
        sig.set("s", bytes(r, 0x2E8, 72));
        if (!crate6) {
            sig.set("_reserved", bytes(r, 0x330, 368));
        }
        o.set("signature", sig);
        return o;
    }

    /** The agent's whole SNP answer: the report and the firmware's certificate table (VCEK, ASK, ARK). */
    public static ObjectNode evidence(byte[] report, Shape shape, List<byte[]> vcekAskArk) {
        ObjectNode o = JSON.createObjectNode();
        o.set("attestation_report", report(report, shape));
        if (vcekAskArk.isEmpty()) {
            o.putNull("cert_chain");
        } else {
            ArrayNode table = o.putArray("cert_chain");
            String[] types = {"VCEK", "ASK", "ARK"};
            for (int i = 0; i < vcekAskArk.size(); i++) {
                ObjectNode e = table.addObject();
                e.put("cert_type", types[i]);
                e.set("data", bytes(vcekAskArk.get(i), 0, vcekAskArk.get(i).length));
            }
            ObjectNode other = table.addObject();
            other.putObject("cert_type").put("OTHER", "7a5fd0c6-0f9a-4d2c-9b8e-1f7a0c3b5e21");
            other.set("data", bytes(new byte[] {1, 2, 3}, 0, 3));
        }
        return o;
    }

    private static ObjectNode tcb(byte[] r, int at, boolean crate6, boolean turin) {
        ObjectNode t = JSON.createObjectNode();
        if (turin) {
            t.put("fmc", r[at] & 0xFF);
            t.put("bootloader", r[at + 1] & 0xFF);
            t.put("tee", r[at + 2] & 0xFF);
            t.put("snp", r[at + 3] & 0xFF);
        } else {
            if (crate6) {
                t.putNull("fmc");
            }
            t.put("bootloader", r[at] & 0xFF);
            t.put("tee", r[at + 1] & 0xFF);
            if (!crate6) {
                t.set("_reserved", bytes(r, at + 2, 4));
            }
            t.put("snp", r[at + 6] & 0xFF);
        }
        t.put("microcode", r[at + 7] & 0xFF);
        return t;
    }

    private static ObjectNode firmware(byte[] r, int at) {
        ObjectNode v = JSON.createObjectNode();
        v.put("major", r[at + 2] & 0xFF);
        v.put("minor", r[at + 1] & 0xFF);
        v.put("build", r[at] & 0xFF);
        return v;
    }

    private static ArrayNode bytes(byte[] r, int at, int n) {
        ArrayNode a = JSON.createArrayNode();
        for (int i = 0; i < n; i++) {
            a.add(r[at + i] & 0xFF);
        }
        return a;
    }

    private static BigInteger le(byte[] r, int at, int n) {
        byte[] be = new byte[n + 1];
        for (int i = 0; i < n; i++) {
            be[n - i] = r[at + i];
        }
        return new BigInteger(be);
    }
}
