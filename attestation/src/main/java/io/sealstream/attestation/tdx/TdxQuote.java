package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An Intel TDX quote, version 4 (Intel TDX DCAP quote format): a 48-byte header, the 584-byte TD
 * report body, and the ECDSA-256 quote signature data — signature and attestation key, then
 * certification data of type 6 holding the QE report, its signature, the QE authentication data
 * and the PCK certificate chain (certification data type 5, PEM). Every length is checked against
 * the bytes present; truncated or oversized input fails with the field's name, never an index error.
 */
public final class TdxQuote {
    /** Header length. */
    public static final int HEADER_LENGTH = 48;
    /** TD report body length (TDX 1.0, quote v4). */
    public static final int BODY_LENGTH = 584;
    /** TEE type of TDX in the header. */
    public static final int TEE_TYPE_TDX = 0x81;
    /** Attestation key type 2: ECDSA-256 with P-256. */
    public static final int KEY_TYPE_ECDSA_P256 = 2;
    /** Largest quote accepted: real v4 quotes are about 5 KB. */
    public static final int MAX_LENGTH = 64 * 1024;
    private static final int SGX_REPORT_LENGTH = 384;

    private final byte[] raw;
    private final byte[] signature;
    private final byte[] attestationKey;
    private final byte[] qeReport;
    private final byte[] qeReportSignature;
    private final byte[] qeAuthData;
    private final String pckChainPem;

    private TdxQuote(byte[] raw, byte[] signature, byte[] attestationKey, byte[] qeReport, byte[] qeReportSignature,
                     byte[] qeAuthData, String pckChainPem) {
        this.raw = raw;
        this.signature = signature;
        this.attestationKey = attestationKey;
        this.qeReport = qeReport;
        this.qeReportSignature = qeReportSignature;
        this.qeAuthData = qeAuthData;
        this.pckChainPem = pckChainPem;
    }

    /** Parses a version-4 TDX quote. */
    public static TdxQuote parse(byte[] bytes) throws AttestationException {
        if (bytes == null || bytes.length < HEADER_LENGTH + BODY_LENGTH + 4) {
            throw malformed("a TDX quote has at least " + (HEADER_LENGTH + BODY_LENGTH + 4) + " bytes, this one has "
                    + (bytes == null ? 0 : bytes.length));
        }
        if (bytes.length > MAX_LENGTH) {
            throw malformed("a TDX quote of " + bytes.length + " bytes is larger than the " + MAX_LENGTH + " accepted");
        }
        Reader r = new Reader(bytes);
        int version = r.u16("header.version");
        if (version != 4) {
            throw new AttestationException(AttestationFailure.UNSUPPORTED_VERSION, "TDX quote version " + version
                    + " (header offset 0) is not 4");
        }
        int keyType = r.u16("header.attestation_key_type");
        if (keyType != KEY_TYPE_ECDSA_P256) {
            throw malformed("attestation key type " + keyType + " (header offset 2) is not 2 (ECDSA-256 P-256)");
        }
        int teeType = r.u32("header.tee_type");
        if (teeType != TEE_TYPE_TDX) {
            throw malformed("TEE type 0x" + Integer.toHexString(teeType) + " (header offset 4) is not 0x81 (TDX)");
        }
        r.seek(HEADER_LENGTH + BODY_LENGTH);
        int sigDataLength = r.u32("signature_data_length");
        if (sigDataLength != bytes.length - r.position()) {
            throw malformed("signature_data_length says " + sigDataLength + " bytes, " + (bytes.length - r.position())
                    + " follow");
        }
        byte[] signature = r.bytes(64, "quote_signature");
        byte[] attestationKey = r.bytes(64, "attestation_public_key");
        int certType = r.u16("certification_data.type");
        if (certType != 6) {
            throw malformed("certification data type " + certType + " is not 6 (QE report certification data)");
        }
        int certSize = r.u32("certification_data.size");
        r.require(certSize, "certification_data");
        byte[] qeReport = r.bytes(SGX_REPORT_LENGTH, "qe_report");
        byte[] qeReportSignature = r.bytes(64, "qe_report_signature");
        int authSize = r.u16("qe_authentication_data.size");
        byte[] qeAuth = r.bytes(authSize, "qe_authentication_data");
        int innerType = r.u16("pck_certification_data.type");
        if (innerType != 5) {
            throw malformed("PCK certification data type " + innerType + " is not 5 (PCK certificate chain)");
        }
        int innerSize = r.u32("pck_certification_data.size");
        String pem = new String(r.bytes(innerSize, "pck_certificate_chain"), StandardCharsets.US_ASCII);
        if (r.position() != bytes.length) {
            throw malformed((bytes.length - r.position()) + " bytes follow the PCK certificate chain");
        }
        return new TdxQuote(bytes.clone(), signature, attestationKey, qeReport, qeReportSignature, qeAuth, pem);
    }

    public int version() {
        return u16(0);
    }

    public int qeSvn() {
        return u16(8);
    }

    public int pceSvn() {
        return u16(10);
    }

    /** TEE_TCB_SVN, 16 bytes. */
    public byte[] teeTcbSvn() {
        return body(0, 16);
    }

    public byte[] mrSeam() {
        return body(16, 48);
    }

    public byte[] tdAttributes() {
        return body(120, 8);
    }

    /** TUD.DEBUG, bit 0 of the TD attributes: the host can read the TD's memory. */
    public boolean debug() {
        return (raw[HEADER_LENGTH + 120] & 1) != 0;
    }

    public byte[] xfam() {
        return body(128, 8);
    }

    public byte[] mrTd() {
        return body(136, 48);
    }

    public byte[] mrConfigId() {
        return body(184, 48);
    }

    public byte[] mrOwner() {
        return body(232, 48);
    }

    public byte[] mrOwnerConfig() {
        return body(280, 48);
    }

    /** RTMR{@code index}, 0 to 3. */
    public byte[] rtmr(int index) {
        return body(328 + 48 * index, 48);
    }

    public byte[] reportData() {
        return body(520, 64);
    }

    /** Header and body: what the attestation key signed. */
    public byte[] signedBytes() {
        return Arrays.copyOf(raw, HEADER_LENGTH + BODY_LENGTH);
    }

    /** ECDSA signature r‖s (big-endian, 32 bytes each). */
    public byte[] signature() {
        return signature.clone();
    }

    /** The attestation public key x‖y. */
    public byte[] attestationKey() {
        return attestationKey.clone();
    }

    /** The Quoting Enclave's SGX report body, signed by the PCK key. */
    public byte[] qeReport() {
        return qeReport.clone();
    }

    public byte[] qeReportSignature() {
        return qeReportSignature.clone();
    }

    public byte[] qeAuthData() {
        return qeAuthData.clone();
    }

    /** report_data of the QE report: SHA-256(attestation key ‖ QE auth data) then 32 zero bytes. */
    public byte[] qeReportData() {
        return Arrays.copyOfRange(qeReport, 320, 384);
    }

    /** The PCK certificate chain, PEM, leaf first. */
    public String pckChainPem() {
        return pckChainPem;
    }

    private int u16(int offset) {
        return ByteBuffer.wrap(raw, offset, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
    }

    private byte[] body(int offset, int length) {
        return Arrays.copyOfRange(raw, HEADER_LENGTH + offset, HEADER_LENGTH + offset + length);
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }

    @Override
    public String toString() {
        return "TdxQuote[version=" + version() + ", mrtd=" + HexFormat.of().formatHex(mrTd()) + ", debug=" + debug() + "]";
    }

    /** Bounds-checked little-endian reads that name the field that ran out. */
    private static final class Reader {
        private final ByteBuffer buf;

        Reader(byte[] bytes) {
            this.buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        int position() {
            return buf.position();
        }

        void seek(int position) {
            buf.position(position);
        }

        void require(int n, String field) throws AttestationException {
            if (n < 0 || n > buf.remaining()) {
                throw malformed("field " + field + " needs " + n + " bytes, only " + buf.remaining() + " remain");
            }
        }

        int u16(String field) throws AttestationException {
            require(2, field);
            return buf.getShort() & 0xFFFF;
        }

        int u32(String field) throws AttestationException {
            require(4, field);
            int v = buf.getInt();
            if (v < 0) {
                throw malformed("field " + field + " claims " + Integer.toUnsignedString(v) + " bytes");
            }
            return v;
        }

        byte[] bytes(int n, String field) throws AttestationException {
            require(n, field);
            byte[] out = new byte[n];
            buf.get(out);
            return out;
        }
    }
}
