package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * An Intel TDX quote, version 4 or 5 (Intel TDX DCAP quote format): a 48-byte header; the TD
 * report body (v4: the 584-byte TDX 1.0 body; v5: a body descriptor of type and size, then a TDX
 * 1.0 body or the 648-byte TDX 1.5 body that adds TEE_TCB_SVN_2 and MRSERVICETD); then the ECDSA-256
 * quote signature data: signature and attestation key, then certification data of type 6 holding
 * the QE report, its signature, the QE authentication data and the PCK certificate chain
 * (certification data type 5, PEM). Every length is checked against the bytes present and against
 * the lengths that enclose it; truncated or inconsistent input fails with the field's name, never
 * an index error. Bytes after the signature data are tolerated and counted ({@link
 * #trailingBytes()}): guests hand out quotes in fixed-size, zero-padded buffers.
 */
public final class TdxQuote {
    /** Header length. */
    public static final int HEADER_LENGTH = 48;
    /** TD report body length of TDX 1.0 (quote v4, and v5 body type 2). */
    public static final int BODY_LENGTH = 584;
    /** TD report body length of TDX 1.5 (quote v5 body type 3). */
    public static final int BODY_LENGTH_1_5 = 648;
    /** TEE type of TDX in the header. */
    public static final int TEE_TYPE_TDX = 0x81;
    /** Attestation key type 2: ECDSA-256 with P-256. */
    public static final int KEY_TYPE_ECDSA_P256 = 2;
    /** Largest quote accepted: real quotes are about 5 KB, some guests pad them to 8 KB. */
    public static final int MAX_LENGTH = 64 * 1024;
    private static final int SGX_REPORT_LENGTH = 384;
    private static final int V5_BODY_DESCRIPTOR = 6;

    private final byte[] raw;
    private final int bodyOffset;
    private final int bodyLength;
    private final int signedLength;
    private final int trailing;
    private final byte[] signature;
    private final byte[] attestationKey;
    private final byte[] qeReport;
    private final byte[] qeReportSignature;
    private final byte[] qeAuthData;
    private final String pckChainPem;

    private TdxQuote(byte[] raw, int bodyOffset, int bodyLength, int trailing, byte[] signature, byte[] attestationKey,
                     byte[] qeReport, byte[] qeReportSignature, byte[] qeAuthData, String pckChainPem) {
        this.raw = raw;
        this.bodyOffset = bodyOffset;
        this.bodyLength = bodyLength;
        this.signedLength = bodyOffset + bodyLength;
        this.trailing = trailing;
        this.signature = signature;
        this.attestationKey = attestationKey;
        this.qeReport = qeReport;
        this.qeReportSignature = qeReportSignature;
        this.qeAuthData = qeAuthData;
        this.pckChainPem = pckChainPem;
    }

    /** Parses a version-4 or version-5 TDX quote. */
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
        if (version != 4 && version != 5) {
            throw new AttestationException(AttestationFailure.UNSUPPORTED_VERSION, "TDX quote version " + version
                    + " (header offset 0) is not 4 or 5");
        }
        int keyType = r.u16("header.attestation_key_type");
        if (keyType != KEY_TYPE_ECDSA_P256) {
            throw malformed("attestation key type " + keyType + " (header offset 2) is not 2 (ECDSA-256 P-256)");
        }
        int teeType = r.u32("header.tee_type");
        if (teeType != TEE_TYPE_TDX) {
            throw malformed("TEE type 0x" + Integer.toHexString(teeType) + " (header offset 4) is not 0x81 (TDX)");
        }
        r.seek(HEADER_LENGTH);
        int bodyOffset = HEADER_LENGTH;
        int bodyLength = BODY_LENGTH;
        if (version == 5) {
            int bodyType = r.u16("body_descriptor.type");
            int bodySize = r.u32("body_descriptor.size");
            int expected = switch (bodyType) {
                case 2 -> BODY_LENGTH;
                case 3 -> BODY_LENGTH_1_5;
                default -> throw new AttestationException(AttestationFailure.UNSUPPORTED_VERSION, "TDX v5 body type "
                        + bodyType + " is not 2 (TDX 1.0) or 3 (TDX 1.5)");
            };
            if (bodySize != expected) {
                throw malformed("body_descriptor.size says " + bodySize + " bytes, a type-" + bodyType + " body has "
                        + expected);
            }
            bodyOffset += V5_BODY_DESCRIPTOR;
            bodyLength = bodySize;
        }
        r.bytes(bodyLength, "td_report_body");
        int sigDataLength = r.u32("signature_data_length");
        r.require(sigDataLength, "signature_data");
        int sigStart = r.position();
        byte[] signature = r.bytes(64, "quote_signature");
        byte[] attestationKey = r.bytes(64, "attestation_public_key");
        int certType = r.u16("certification_data.type");
        if (certType != 6) {
            throw malformed("certification data type " + certType + " is not 6 (QE report certification data)");
        }
        int certSize = r.u32("certification_data.size");
        r.require(certSize, "certification_data");
        int certStart = r.position();
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
        if (r.position() - certStart != certSize) {
            throw malformed("certification_data.size says " + certSize + " bytes, its fields take "
                    + (r.position() - certStart));
        }
        if (r.position() - sigStart != sigDataLength) {
            throw malformed("signature_data_length says " + sigDataLength + " bytes, its fields take "
                    + (r.position() - sigStart));
        }
        return new TdxQuote(bytes.clone(), bodyOffset, bodyLength, bytes.length - r.position(), signature,
                attestationKey, qeReport, qeReportSignature, qeAuth, pem);
    }

    public int version() {
        return u16(0);
    }

    /** 2 for a TDX 1.0 body (every v4 quote), 3 for a TDX 1.5 body. */
    public int bodyType() {
        return bodyLength == BODY_LENGTH_1_5 ? 3 : 2;
    }

    /** Bytes after the signature data (padding), not covered by any signature. */
    public int trailingBytes() {
        return trailing;
    }

    public int qeSvn() {
        return u16(8);
    }

    public int pceSvn() {
        return u16(10);
    }

    /** TEE_TCB_SVN, 16 bytes: byte 0 the TDX module's SVN, byte 1 its major version. */
    public byte[] teeTcbSvn() {
        return body(0, 16);
    }

    public byte[] mrSeam() {
        return body(16, 48);
    }

    /** MRSIGNERSEAM: zero for a TDX module signed by Intel. */
    public byte[] mrSignerSeam() {
        return body(64, 48);
    }

    public byte[] seamAttributes() {
        return body(112, 8);
    }

    public byte[] tdAttributes() {
        return body(120, 8);
    }

    /** TUD.DEBUG, bit 0 of the TD attributes: the host can read the TD's memory. */
    public boolean debug() {
        return (raw[bodyOffset + 120] & 1) != 0;
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

    /** TEE_TCB_SVN_2 of a TDX 1.5 body, empty for TDX 1.0. */
    public Optional<byte[]> teeTcbSvn2() {
        return bodyType() == 3 ? Optional.of(body(584, 16)) : Optional.empty();
    }

    /** MRSERVICETD of a TDX 1.5 body, empty for TDX 1.0. */
    public Optional<byte[]> mrServiceTd() {
        return bodyType() == 3 ? Optional.of(body(600, 48)) : Optional.empty();
    }

    /** Header, v5 body descriptor and body: what the attestation key signed. */
    public byte[] signedBytes() {
        return Arrays.copyOf(raw, signedLength);
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

    /** MRSIGNER of the Quoting Enclave (QE report offset 128, 32 bytes). */
    public byte[] qeMrSigner() {
        return Arrays.copyOfRange(qeReport, 128, 160);
    }

    /** MISCSELECT of the Quoting Enclave (QE report offset 0x10, little-endian). */
    public long qeMiscSelect() {
        return ByteBuffer.wrap(qeReport, 16, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
    }

    /** ATTRIBUTES of the Quoting Enclave (QE report offset 0x30, 16 bytes). */
    public byte[] qeAttributes() {
        return Arrays.copyOfRange(qeReport, 48, 64);
    }

    public int qeIsvProdId() {
        return ByteBuffer.wrap(qeReport, 256, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
    }

    public int qeIsvSvn() {
        return ByteBuffer.wrap(qeReport, 258, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
    }

    /** The PCK certificate chain, PEM, leaf first. */
    public String pckChainPem() {
        return pckChainPem;
    }

    private int u16(int offset) {
        return ByteBuffer.wrap(raw, offset, 2).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xFFFF;
    }

    private byte[] body(int offset, int length) {
        return Arrays.copyOfRange(raw, bodyOffset + offset, bodyOffset + offset + length);
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }

    @Override
    public String toString() {
        return "TdxQuote[version=" + version() + ", bodyType=" + bodyType() + ", mrtd=" + HexFormat.of().formatHex(mrTd()) + ", debug=" + debug() + "]";
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
