package io.sealstream.attestation.azure;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Evidence from inside an Azure confidential VM, without configfs-tsm (the guest runs above the
 * paravisor and has no SEV-SNP or TDX guest device): it writes the 64-byte binding to the vTPM's
 * user-data index (0x01400002, defined when absent), which makes the paravisor regenerate the HCL
 * report; reads that report (0x01400001) and checks it carries the binding; quotes PCR 0 to 23
 * with the attestation key (0x81000003) over the binding's first 32 bytes; reads the PCR values;
 * reads the attestation key's certificate (0x01C101D0) when present; and asks the host for what
 * only it has: the VCEK chain (SNP) or the TD quote made from the TDREPORT (TDX). Calls are
 * serialised: the user-data index is one per VM.
 */
public final class AzureVtpmProvider implements EvidenceProvider {
    /** Where the paravisor puts the HCL report. */
    public static final int HCL_REPORT_INDEX = 0x01400001;
    /** Where the guest writes the 64 bytes of user-data the next HCL report carries. */
    public static final int USER_DATA_INDEX = 0x01400002;
    /** The attestation key's certificate, zero-padded. */
    public static final int AK_CERTIFICATE_INDEX = 0x01C101D0;
    /** The vTPM attestation key's persistent handle. */
    public static final int ATTESTATION_KEY = 0x81000003;
    private static final SortedSet<Integer> ALL_PCRS =
            new TreeSet<>(IntStream.range(0, TpmQuote.PCR_COUNT).boxed().toList());
    /** PCRs can be extended between the read and the quote; so many tries before giving up. */
    private static final int QUOTE_TRIES = 3;

    /** What only the host can give the VM (Azure's IMDS; a test's stand-in). */
    public interface Host {
        /** The VCEK (and ASK, ARK) of the chip, DER, leaf first. */
        List<byte[]> vcekChain() throws IOException;

        /** The TD quote made from a TDREPORT. */
        byte[] tdQuote(byte[] tdReport) throws IOException;
    }

    private final Tpm2 tpm;
    private final Host host;
    private final TeeType tee;

    private AzureVtpmProvider(Tpm2 tpm, Host host, TeeType tee) {
        this.tpm = tpm;
        this.host = host;
        this.tee = tee;
    }

    /**
     * Opens the provider on {@code device}, reading the HCL report once to learn whether this is
     * an SNP or a TDX VM.
     *
     * @throws AttestationException MALFORMED_EVIDENCE when the TPM has no HCL report: not an Azure
     *     confidential VM
     */
    public static AzureVtpmProvider open(TpmDevice device, Host host) throws AttestationException {
        Tpm2 tpm = new Tpm2(device);
        HclReport hcl = readReport(tpm);
        return new AzureVtpmProvider(tpm, host, hcl.snp() ? TeeType.AZURE_SNP : TeeType.AZURE_TDX);
    }

    @Override
    public TeeType tee() {
        return tee;
    }

    @Override
    public synchronized Evidence attest(byte[] reportData) throws AttestationException {
        if (reportData == null || reportData.length != ReportDataBinding.LENGTH) {
            throw new IllegalArgumentException("report data is " + ReportDataBinding.LENGTH + " bytes");
        }
        try {
            if (tpm.nvSize(USER_DATA_INDEX).isEmpty()) {
                tpm.nvDefine(USER_DATA_INDEX, ReportDataBinding.LENGTH);
            }
            tpm.nvWrite(USER_DATA_INDEX, reportData);
            byte[] hclBytes = nvRead(HCL_REPORT_INDEX);
            HclReport hcl = HclReport.parse(hclBytes);
            Optional<byte[]> userData = RuntimeClaims.parse(hcl.runtimeClaims()).userData();
            if (userData.isEmpty() || !MessageDigest.isEqual(userData.get(), reportData)) {
                throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the HCL report read after writing "
                        + "user-data does not carry it: the paravisor did not regenerate the report (an older paravisor "
                        + "without user-data, or another process wrote the index at the same time)");
            }
            if (hcl.snp() != (tee == TeeType.AZURE_SNP)) {
                throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the HCL report changed type");
            }
            Optional<byte[]> tdQuote = hcl.snp() ? Optional.empty() : Optional.of(host.tdQuote(hcl.hardwareReport()));
            byte[][] quote = null;
            SortedMap<Integer, byte[]> pcrs = null;
            for (int attempt = 1; quote == null; attempt++) {
                SortedMap<Integer, byte[]> read = tpm.pcrRead(ALL_PCRS);
                byte[][] q = tpm.quote(ATTESTATION_KEY, Arrays.copyOf(reportData, 32), ALL_PCRS);
                try {
                    TpmQuote.parse(q[0]).checkPcrs(read);
                    quote = q;
                    pcrs = read;
                } catch (AttestationException e) {
                    if (e.failure() != AttestationFailure.VTPM_MISMATCH || attempt == QUOTE_TRIES) {
                        throw e;
                    }
                    // a PCR was extended between the read and the quote: read and quote again
                }
            }
            List<byte[]> akCertificate = tpm.nvSize(AK_CERTIFICATE_INDEX).isPresent()
                    ? List.of(derPrefix(nvRead(AK_CERTIFICATE_INDEX))) : List.of();
            List<byte[]> vcek = hcl.snp() ? host.vcekChain() : List.of();
            return new AzureEvidence(hclBytes, tdQuote, quote[0], quote[1], pcrs, akCertificate).toEvidence(vcek);
        } catch (IOException | BufferUnderflowException e) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "cannot make Azure evidence: "
                    + e.getMessage());
        }
    }

    private byte[] nvRead(int index) throws IOException {
        return read(tpm, index);
    }

    private static HclReport readReport(Tpm2 tpm) throws AttestationException {
        try {
            return HclReport.parse(read(tpm, HCL_REPORT_INDEX));
        } catch (IOException | BufferUnderflowException e) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "cannot read the vTPM's HCL report: "
                    + e.getMessage());
        }
    }

    private static byte[] read(Tpm2 tpm, int index) throws IOException {
        int size = tpm.nvSize(index).orElseThrow(() -> new IOException("the TPM has no NV index 0x"
                + Integer.toHexString(index) + (index == HCL_REPORT_INDEX ? ": this is not an Azure confidential VM" : "")));
        return tpm.nvRead(index, size);
    }

    /** A DER value without the zero padding that fills the rest of its NV index. */
    static byte[] derPrefix(byte[] padded) throws IOException {
        if (padded.length < 2 || padded[0] != 0x30) {
            throw new IOException("the attestation key certificate index does not hold a DER certificate");
        }
        int first = padded[1] & 0xFF;
        long length;
        int header;
        if (first < 0x80) {
            length = first;
            header = 2;
        } else {
            int n = first & 0x7F;
            if (n == 0 || n > 3 || padded.length < 2 + n) {
                throw new IOException("the attestation key certificate has a DER length of " + n + " bytes");
            }
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (padded[2 + i] & 0xFF);
            }
            header = 2 + n;
        }
        if (header + length > padded.length) {
            throw new IOException("the attestation key certificate is longer than its NV index");
        }
        return Arrays.copyOf(padded, (int) (header + length));
    }
}
