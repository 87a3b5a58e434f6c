package io.sealstream.attestation.snp;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * An AMD SEV-SNP ATTESTATION_REPORT (SEV-SNP ABI specification, table "ATTESTATION_REPORT
 * structure"): 1184 bytes, little-endian, the signature over bytes 0x000–0x29F. Versions 2, 3 and
 * 5 share this layout; version 3 adds the CPUID family/model/stepping bytes, version 5 the
 * launch and current mitigation vectors. Immutable; accessors return copies.
 */
public final class SnpReport {
    /** Size of every report version this parser knows. */
    public static final int LENGTH = 0x4A0;
    /** End of the signed part; the signature starts here. */
    public static final int SIGNED_LENGTH = 0x2A0;
    /** ECDSA P-384 with SHA-384, the only algorithm AMD defines. */
    public static final int SIG_ALGO_ECDSA_P384_SHA384 = 1;
    private static final int MIN_VERSION = 2;
    private static final int MAX_VERSION = 5;

    // guest policy bits (ABI spec, GUEST_POLICY)
    private static final long POLICY_SMT = 1L << 16;
    private static final long POLICY_MIGRATE_MA = 1L << 18;
    private static final long POLICY_DEBUG = 1L << 19;
    private static final long POLICY_SINGLE_SOCKET = 1L << 20;

    private final byte[] raw;

    private SnpReport(byte[] raw) {
        this.raw = raw;
    }

    /**
     * Parses a report, checking its length, version and signature algorithm.
     *
     * @throws AttestationException MALFORMED_EVIDENCE for a wrong length or algorithm,
     *     UNSUPPORTED_VERSION for a version outside 2–5
     */
    public static SnpReport parse(byte[] bytes) throws AttestationException {
        if (bytes == null || bytes.length != LENGTH) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "an SEV-SNP attestation report has "
                    + LENGTH + " bytes, this one has " + (bytes == null ? 0 : bytes.length)
                    + "; send the report exactly as the firmware returned it");
        }
        SnpReport r = new SnpReport(bytes.clone());
        if (r.version() < MIN_VERSION || r.version() > MAX_VERSION) {
            throw new AttestationException(AttestationFailure.UNSUPPORTED_VERSION, "SEV-SNP report version "
                    + r.version() + " (offset 0x000) is not one of 2 to 5");
        }
        if (r.signatureAlgorithm() != SIG_ALGO_ECDSA_P384_SHA384) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "SEV-SNP report signature algorithm "
                    + r.signatureAlgorithm() + " (offset 0x034) is not 1 (ECDSA P-384 with SHA-384)");
        }
        return r;
    }

    public int version() {
        return u32(0x000);
    }

    public int guestSvn() {
        return u32(0x004);
    }

    /** The 64-bit guest policy. */
    public long policy() {
        return u64(0x008);
    }

    public boolean debugAllowed() {
        return (policy() & POLICY_DEBUG) != 0;
    }

    public boolean migrationAgentAllowed() {
        return (policy() & POLICY_MIGRATE_MA) != 0;
    }

    public boolean smtAllowed() {
        return (policy() & POLICY_SMT) != 0;
    }

    public boolean singleSocketRequired() {
        return (policy() & POLICY_SINGLE_SOCKET) != 0;
    }

    public int policyAbiMajor() {
        return (int) ((policy() >> 8) & 0xFF);
    }

    public int policyAbiMinor() {
        return (int) (policy() & 0xFF);
    }

    public byte[] familyId() {
        return bytes(0x010, 16);
    }

    public byte[] imageId() {
        return bytes(0x020, 16);
    }

    public int vmpl() {
        return u32(0x030);
    }

    public int signatureAlgorithm() {
        return u32(0x034);
    }

    public TcbVersion currentTcb() {
        return TcbVersion.of(u64(0x038));
    }

    public long platformInfo() {
        return u64(0x040);
    }

    public boolean authorKeyEnabled() {
        return (u32(0x048) & 1) != 0;
    }

    /** Whether the chip id was masked (MASK_CHIP_KEY): the chip_id field is then zero. */
    public boolean chipIdMasked() {
        return (u32(0x048) & 2) != 0;
    }

    /** The key that signed the report: 0 VCEK, 1 VLEK, 7 none. */
    public int signingKey() {
        return (u32(0x048) >> 2) & 0x7;
    }

    public byte[] reportData() {
        return bytes(0x050, 64);
    }

    public byte[] measurement() {
        return bytes(0x090, 48);
    }

    public byte[] hostData() {
        return bytes(0x0C0, 32);
    }

    public byte[] idKeyDigest() {
        return bytes(0x0E0, 48);
    }

    public byte[] authorKeyDigest() {
        return bytes(0x110, 48);
    }

    public byte[] reportId() {
        return bytes(0x140, 32);
    }

    public byte[] reportIdMa() {
        return bytes(0x160, 32);
    }

    public TcbVersion reportedTcb() {
        return TcbVersion.of(u64(0x180));
    }

    /** CPUID family, model and stepping (version 3 and later; zeros before). */
    public int[] cpuid() {
        return version() >= 3 ? new int[] {raw[0x188] & 0xFF, raw[0x189] & 0xFF, raw[0x18A] & 0xFF} : new int[3];
    }

    public byte[] chipId() {
        return bytes(0x1A0, 64);
    }

    public TcbVersion committedTcb() {
        return TcbVersion.of(u64(0x1E0));
    }

    public TcbVersion launchTcb() {
        return TcbVersion.of(u64(0x1F0));
    }

    /** The signed bytes, 0x000–0x29F. */
    public byte[] signedBytes() {
        return Arrays.copyOf(raw, SIGNED_LENGTH);
    }

    /** Signature component r: 72 little-endian bytes at 0x2A0, as AMD stores it. */
    public byte[] signatureR() {
        return bytes(0x2A0, 72);
    }

    /** Signature component s: 72 little-endian bytes at 0x2E8. */
    public byte[] signatureS() {
        return bytes(0x2E8, 72);
    }

    /** The report exactly as parsed. */
    public byte[] toBytes() {
        return raw.clone();
    }

    private int u32(int offset) {
        return ByteBuffer.wrap(raw, offset, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private long u64(int offset) {
        return ByteBuffer.wrap(raw, offset, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private byte[] bytes(int offset, int length) {
        return Arrays.copyOfRange(raw, offset, offset + length);
    }

    @Override
    public String toString() {
        return "SnpReport[version=" + version() + ", measurement=" + HexFormat.of().formatHex(measurement())
                + ", policy=0x" + Long.toHexString(policy()) + ", reportedTcb=" + reportedTcb() + "]";
    }

    /** Writes reports in the same layout, for the simulated TEE. */
    public static final class Writer {
        private final ByteBuffer buf = ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN);

        public Writer() {
            buf.putInt(0x000, 2);
            buf.putInt(0x034, SIG_ALGO_ECDSA_P384_SHA384);
            buf.putLong(0x008, 0x30000L); // ABI 0.0, SMT allowed, reserved bit 17 set
        }

        public Writer version(int version) {
            buf.putInt(0x000, version);
            return this;
        }

        public Writer policy(long policy) {
            buf.putLong(0x008, policy);
            return this;
        }

        public Writer debug(boolean allowed) {
            return policy(allowed ? buf.getLong(0x008) | POLICY_DEBUG : buf.getLong(0x008) & ~POLICY_DEBUG);
        }

        /** The privilege level that asks for the report (0 is the guest's most privileged). */
        public Writer vmpl(int vmpl) {
            buf.putInt(0x030, vmpl);
            return this;
        }

        public Writer migrationAgent(boolean allowed) {
            return policy(allowed ? buf.getLong(0x008) | POLICY_MIGRATE_MA : buf.getLong(0x008) & ~POLICY_MIGRATE_MA);
        }

        public Writer measurement(byte[] measurement) {
            return put(0x090, measurement, 48);
        }

        public Writer hostData(byte[] hostData) {
            return put(0x0C0, hostData, 32);
        }

        public Writer reportData(byte[] reportData) {
            return put(0x050, reportData, 64);
        }

        public Writer chipId(byte[] chipId) {
            return put(0x1A0, chipId, 64);
        }

        /** Current, reported, committed and launch TCB all at {@code tcb}. */
        public Writer tcb(TcbVersion tcb) {
            for (int offset : new int[] {0x038, 0x180, 0x1E0, 0x1F0}) {
                buf.putLong(offset, tcb.raw());
            }
            return this;
        }

        /** The bytes to sign. */
        public byte[] signedBytes() {
            return Arrays.copyOf(buf.array(), SIGNED_LENGTH);
        }

        /** The report with signature (r, s) given big-endian, stored little-endian as AMD does. */
        public byte[] sign(byte[] rBigEndian, byte[] sBigEndian) {
            byte[] out = buf.array().clone();
            putLittleEndian(out, 0x2A0, rBigEndian);
            putLittleEndian(out, 0x2E8, sBigEndian);
            return out;
        }

        private Writer put(int offset, byte[] value, int length) {
            if (value.length != length) {
                throw new IllegalArgumentException("field at 0x" + Integer.toHexString(offset) + " takes " + length
                        + " bytes, got " + value.length);
            }
            buf.put(offset, value);
            return this;
        }

        private static void putLittleEndian(byte[] out, int offset, byte[] bigEndian) {
            int start = 0;
            while (start < bigEndian.length - 1 && bigEndian[start] == 0) {
                start++;
            }
            int n = bigEndian.length - start;
            if (n > 72) {
                throw new IllegalArgumentException("signature component longer than 72 bytes");
            }
            for (int i = 0; i < n; i++) {
                out[offset + i] = bigEndian[bigEndian.length - 1 - i];
            }
        }
    }
}
