package io.sealstream.attestation.azure;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.ReportDataBinding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * The report Azure's paravisor (HCL) writes to vTPM NV index 0x01400001: a 32-byte header
 * ({@code HCLA}), the hardware report (an SEV-SNP ATTESTATION_REPORT, or a TDX TDREPORT padded to
 * the same 1184 bytes), a 20-byte IGVM block and the runtime claims (UTF-8 JSON). Little-endian
 * throughout; the NV index is zero-padded past {@code report_size}.
 *
 * <p>Only the hardware report is signed, and it covers the runtime claims through its report_data:
 * SHA-256(claims) followed by 32 zero bytes ({@link #checkClaimsBound()}). The header and the IGVM
 * block are read for their lengths and type only, never trusted.
 */
public final class HclReport {
    /** Where the hardware report starts. */
    static final int HARDWARE_REPORT_OFFSET = 0x20;
    /** The hardware report's room: an SNP report's length; a TDREPORT (1024 bytes) is zero-padded to it. */
    static final int HARDWARE_REPORT_LENGTH = 1184;
    /** A TDREPORT's length. */
    static final int TDREPORT_LENGTH = 1024;
    /** Where the IGVM block starts; the runtime claims follow it. */
    static final int IGVM_OFFSET = HARDWARE_REPORT_OFFSET + HARDWARE_REPORT_LENGTH;
    static final int CLAIMS_OFFSET = IGVM_OFFSET + 20;
    /** Larger runtime claims than any paravisor writes are refused before they are parsed. */
    static final int MAX_CLAIMS = 16 * 1024;
    /** The IGVM block's report types. */
    static final int TYPE_SNP = 2;
    static final int TYPE_TDX = 4;
    /** report_data offsets inside the SNP report and the TDREPORT. */
    private static final int SNP_REPORT_DATA = 0x50;
    private static final int TDREPORT_REPORT_DATA = 0x80;

    private final int headerVersion;
    private final int reportType;
    private final byte[] hardwareReport;
    private final byte[] runtimeClaims;

    private HclReport(int headerVersion, int reportType, byte[] hardwareReport, byte[] runtimeClaims) {
        this.headerVersion = headerVersion;
        this.reportType = reportType;
        this.hardwareReport = hardwareReport;
        this.runtimeClaims = runtimeClaims;
    }

    /**
     * Parses an HCL report, with or without the NV index's zero padding after it.
     *
     * @throws AttestationException MALFORMED_EVIDENCE for a wrong signature, length or report type
     */
    public static HclReport parse(byte[] nv) throws AttestationException {
        if (nv == null || nv.length < CLAIMS_OFFSET) {
            throw malformed("an HCL report has at least " + CLAIMS_OFFSET + " bytes, got " + (nv == null ? 0 : nv.length));
        }
        ByteBuffer b = ByteBuffer.wrap(nv).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(0) != 0x414C4348) { // "HCLA"
            throw malformed("the HCL report does not start with 'HCLA': this is not Azure's vTPM report index");
        }
        long reportSize = Integer.toUnsignedLong(b.getInt(0x08));
        long dataSize = Integer.toUnsignedLong(b.getInt(IGVM_OFFSET));
        long variableSize = Integer.toUnsignedLong(b.getInt(IGVM_OFFSET + 0x10));
        int reportType = b.getInt(IGVM_OFFSET + 0x08);
        if (variableSize > MAX_CLAIMS) {
            throw malformed("the runtime claims say " + variableSize + " bytes, more than the " + MAX_CLAIMS + " accepted");
        }
        if (reportSize != CLAIMS_OFFSET + variableSize || dataSize != 20 + variableSize || reportSize > nv.length) {
            throw malformed("the HCL report's lengths disagree: report_size " + reportSize + ", IGVM data_size "
                    + dataSize + ", runtime claims " + variableSize + ", " + nv.length + " bytes present");
        }
        if (b.getInt(IGVM_OFFSET + 0x0C) != 1) {
            throw malformed("the runtime claims' hash type is " + b.getInt(IGVM_OFFSET + 0x0C) + ", not 1 (SHA-256)");
        }
        if (reportType != TYPE_SNP && reportType != TYPE_TDX) {
            throw malformed("the HCL report's type is " + reportType + "; expected 2 (SEV-SNP) or 4 (TDX)");
        }
        int hwLength = reportType == TYPE_SNP ? HARDWARE_REPORT_LENGTH : TDREPORT_LENGTH;
        byte[] hw = Arrays.copyOfRange(nv, HARDWARE_REPORT_OFFSET, HARDWARE_REPORT_OFFSET + hwLength);
        byte[] claims = Arrays.copyOfRange(nv, CLAIMS_OFFSET, (int) reportSize);
        return new HclReport(b.getInt(0x04), reportType, hw, claims);
    }

    /** The header version (1 on the SNP captures, 2 on TDX). */
    public int headerVersion() {
        return headerVersion;
    }

    /** Whether the hardware report is an SEV-SNP report (else a TDX TDREPORT). */
    public boolean snp() {
        return reportType == TYPE_SNP;
    }

    /** A copy of the hardware report: 1184 bytes of SNP report, or 1024 bytes of TDREPORT. */
    public byte[] hardwareReport() {
        return hardwareReport.clone();
    }

    /** A copy of the runtime claims, exactly as stored (the bytes the hash covers). */
    public byte[] runtimeClaims() {
        return runtimeClaims.clone();
    }

    /** The hardware report's 64-byte report_data. */
    public byte[] reportData() {
        int at = snp() ? SNP_REPORT_DATA : TDREPORT_REPORT_DATA;
        return Arrays.copyOfRange(hardwareReport, at, at + 64);
    }

    /**
     * Checks that the hardware report binds the runtime claims: report_data is SHA-256 of the claims
     * followed by 32 zero bytes. Only then do the claims (the vTPM's key, user-data) say anything.
     *
     * @throws AttestationException RUNTIME_CLAIMS_UNBOUND otherwise
     */
    public void checkClaimsBound() throws AttestationException {
        byte[] expected = new byte[64];
        System.arraycopy(ReportDataBinding.sha256(runtimeClaims), 0, expected, 0, 32);
        if (!MessageDigest.isEqual(expected, reportData())) {
            throw new AttestationException(AttestationFailure.RUNTIME_CLAIMS_UNBOUND, "the hardware report's report_data "
                    + "is not SHA-256 of the runtime claims: the claims (and the vTPM key they name) are not attested; "
                    + "read the HCL report again after the paravisor regenerated it");
        }
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }
}
