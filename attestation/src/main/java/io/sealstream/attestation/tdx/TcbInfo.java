package io.sealstream.attestation.tdx;

import com.fasterxml.jackson.databind.JsonNode;
import io.sealstream.attestation.AttestationException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Intel's TDX TCB Info (id {@code TDX}, version 3) for one FMSPC: the TDX module identities and the
 * platform's TCB levels, newest first, each with the status Intel assigns to platforms at or above
 * it.
 */
record TcbInfo(Instant issueDate, Instant nextUpdate, String fmspc, String pceId, int evaluationDataNumber,
               ModuleIdentity tdxModule, List<ModuleIdentity> moduleIdentities, List<Level> levels) {

    /** A TDX module signer and attributes, with the module's own TCB levels (by ISV SVN). */
    record ModuleIdentity(String id, byte[] mrSigner, byte[] attributes, byte[] attributesMask,
                          List<IsvLevel> levels) { }

    /** A level keyed by one ISV SVN: TDX module identities and QE Identity use them. */
    record IsvLevel(int isvSvn, Instant tcbDate, TcbStatus status, List<String> advisoryIds) { }

    /** A platform TCB level: 16 SGX component SVNs, the PCE SVN and 16 TDX component SVNs. */
    record Level(int[] sgx, int pceSvn, int[] tdx, Instant tcbDate, TcbStatus status, List<String> advisoryIds) { }

    static TcbInfo parse(String json) throws AttestationException {
        CollateralJson j = CollateralJson.of("TCB Info");
        JsonNode n = j.parse(json);
        if (!"TDX".equals(j.text(n, "id")) || j.integer(n, "version") != 3) {
            throw j.bad("is not TDX TCB Info version 3 (id '" + n.path("id").asText() + "', version "
                    + n.path("version").asText() + ")");
        }
        JsonNode m = j.node(n, "tdxModule");
        ModuleIdentity module = new ModuleIdentity("TDX", j.hex(m, "mrsigner", 48), j.hex(m, "attributes", 8),
                j.hex(m, "attributesMask", 8), List.of());
        List<ModuleIdentity> identities = new ArrayList<>();
        if (n.has("tdxModuleIdentities")) {
            for (JsonNode id : j.array(n, "tdxModuleIdentities")) {
                identities.add(new ModuleIdentity(j.text(id, "id"), j.hex(id, "mrsigner", 48),
                        j.hex(id, "attributes", 8), j.hex(id, "attributesMask", 8), isvLevels(j, id)));
            }
        }
        List<Level> levels = new ArrayList<>();
        for (JsonNode l : j.array(n, "tcbLevels")) {
            JsonNode tcb = j.node(l, "tcb");
            levels.add(new Level(svns(j, tcb, "sgxtcbcomponents"), j.integer(tcb, "pcesvn"),
                    svns(j, tcb, "tdxtcbcomponents"), j.instant(l, "tcbDate"), j.status(l),
                    j.strings(l, "advisoryIDs")));
        }
        return new TcbInfo(j.instant(n, "issueDate"), j.instant(n, "nextUpdate"), j.text(n, "fmspc").toUpperCase(),
                j.text(n, "pceId").toUpperCase(), j.integer(n, "tcbEvaluationDataNumber"), module,
                List.copyOf(identities), List.copyOf(levels));
    }

    /** The module identity {@code TDX_<major version, 2 hex digits>}, if listed. */
    Optional<ModuleIdentity> moduleIdentity(int majorVersion) {
        String id = String.format("TDX_%02X", majorVersion);
        return moduleIdentities.stream().filter(m -> m.id().equalsIgnoreCase(id)).findFirst();
    }

    static List<IsvLevel> isvLevels(CollateralJson j, JsonNode parent) throws AttestationException {
        List<IsvLevel> out = new ArrayList<>();
        for (JsonNode l : j.array(parent, "tcbLevels")) {
            out.add(new IsvLevel(j.integer(j.node(l, "tcb"), "isvsvn"), j.instant(l, "tcbDate"), j.status(l),
                    j.strings(l, "advisoryIDs")));
        }
        return List.copyOf(out);
    }

    private static int[] svns(CollateralJson j, JsonNode tcb, String field) throws AttestationException {
        List<JsonNode> comps = j.array(tcb, field);
        if (comps.size() != 16) {
            throw j.bad("field '" + field + "' has " + comps.size() + " components, expected 16");
        }
        int[] out = new int[16];
        for (int i = 0; i < 16; i++) {
            out[i] = j.integer(comps.get(i), "svn");
        }
        return out;
    }
}
