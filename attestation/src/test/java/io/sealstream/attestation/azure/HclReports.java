package io.sealstream.attestation.azure;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** HCL reports made from their parts, for captures that kept only those and for the simulated paravisor. */
final class HclReports {
    private HclReports() {
    }

    /**
     * Builds the bytes of an HCL report around its parts, for evidence whose capture kept only the
     * hardware report and the runtime claims (the header and IGVM block are unsigned framing).
     */
    static byte[] assemble(boolean snp, byte[] hardwareReport, byte[] runtimeClaims) {
        int hwLength = snp ? HclReport.HARDWARE_REPORT_LENGTH : HclReport.TDREPORT_LENGTH;
        if (hardwareReport.length != hwLength) {
            throw new IllegalArgumentException("a " + (snp ? "SNP report" : "TDREPORT") + " has " + hwLength + " bytes, got "
                    + hardwareReport.length);
        }
        ByteBuffer b = ByteBuffer.allocate(HclReport.CLAIMS_OFFSET + runtimeClaims.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x414C4348).putInt(0x04, snp ? 1 : 2).putInt(0x08, HclReport.CLAIMS_OFFSET + runtimeClaims.length)
                .putInt(0x0C, 2);
        b.put(HclReport.HARDWARE_REPORT_OFFSET, hardwareReport);
        b.putInt(HclReport.IGVM_OFFSET, 20 + runtimeClaims.length).putInt(HclReport.IGVM_OFFSET + 4, 1)
                .putInt(HclReport.IGVM_OFFSET + 8, snp ? HclReport.TYPE_SNP : HclReport.TYPE_TDX).putInt(HclReport.IGVM_OFFSET + 12, 1)
                .putInt(HclReport.IGVM_OFFSET + 16, runtimeClaims.length);
        b.put(HclReport.CLAIMS_OFFSET, runtimeClaims);
        return b.array();
    }
}
