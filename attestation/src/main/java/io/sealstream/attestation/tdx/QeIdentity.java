package io.sealstream.attestation.tdx;

import com.fasterxml.jackson.databind.JsonNode;
import io.sealstream.attestation.AttestationException;
import java.time.Instant;
import java.util.List;

/**
 * Intel's identity of the TDX Quoting Enclave (id {@code TD_QE}, version 2): who signs it, its
 * product id, MISCSELECT and ATTRIBUTES under masks, and its TCB levels by ISV SVN.
 */
record QeIdentity(Instant issueDate, Instant nextUpdate, long miscSelect, long miscSelectMask, byte[] attributes,
                  byte[] attributesMask, byte[] mrSigner, int isvProdId, List<TcbInfo.IsvLevel> levels) {

    static QeIdentity parse(String json) throws AttestationException {
        CollateralJson j = CollateralJson.of("QE Identity");
        JsonNode n = j.parse(json);
        if (!"TD_QE".equals(j.text(n, "id")) || j.integer(n, "version") != 2) {
            throw j.bad("is not the TD_QE identity version 2 (id '" + n.path("id").asText() + "', version "
                    + n.path("version").asText() + ")");
        }
        return new QeIdentity(j.instant(n, "issueDate"), j.instant(n, "nextUpdate"), u32(j.hex(n, "miscselect", 4)),
                u32(j.hex(n, "miscselectMask", 4)), j.hex(n, "attributes", 16), j.hex(n, "attributesMask", 16),
                j.hex(n, "mrsigner", 32), j.integer(n, "isvprodid"), TcbInfo.isvLevels(j, n));
    }

    private static long u32(byte[] bigEndian) {
        return ((bigEndian[0] & 0xFFL) << 24) | ((bigEndian[1] & 0xFFL) << 16) | ((bigEndian[2] & 0xFFL) << 8)
                | (bigEndian[3] & 0xFFL);
    }
}
