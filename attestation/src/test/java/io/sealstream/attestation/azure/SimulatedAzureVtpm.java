package io.sealstream.attestation.azure;

import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.simulated.SimulatedSnpTee;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * An Azure confidential VM's vTPM and paravisor as the guest sees them, at the level of TPM 2.0
 * command bytes: NV indices, a SHA-256 PCR bank, an RSA attestation key at 0x81000003, and a
 * paravisor that regenerates the HCL report (an SNP report from the simulated TEE binding runtime
 * claims with the written user-data) whenever 0x01400002 is written. It refuses what a TPM refuses:
 * a wrong tag, a missing or non-empty password session, an undefined handle, a read past the end.
 */
final class SimulatedAzureVtpm implements TpmDevice, AzureVtpmProvider.Host {
    private static final int RC_HANDLE_1 = 0x18B;
    private static final int RC_BAD_TAG = 0x01E;
    private static final int RC_AUTH_MISSING = 0x125;
    private static final int RC_NV_RANGE = 0x146;
    private static final int RC_NV_DEFINED = 0x14C;
    private static final int RC_COMMAND_CODE = 0x143;

    final SimulatedSnpTee tee = SimulatedSnpTee.shared();
    final byte[] measurement = HexFormat.of().parseHex("a2".repeat(48));
    private final KeyPair ak;
    private final Map<Integer, byte[]> nv = new HashMap<>();
    private final byte[][] pcrs = new byte[24][32];
    /** When set, the paravisor ignores user-data writes (an older one, or a lost race). */
    boolean paravisorRegenerates = true;
    /** Extends PCR 10 after this many more PCR reads (a measurement landing between read and quote); -1: never. */
    int extendAfterReads = -1;
    int quotes;

    SimulatedAzureVtpm() throws GeneralSecurityException {
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        ak = rsa.generateKeyPair();
        for (int i = 0; i < 8; i++) {
            pcrs[i] = ReportDataBinding.sha256(("boot component " + i).getBytes(StandardCharsets.UTF_8));
        }
        nv.put(AzureVtpmProvider.HCL_REPORT_INDEX, report(new byte[64]));
    }

    /** The PCR values now, by index. */
    byte[] pcr(int i) {
        return pcrs[i].clone();
    }

    void extend(int i, byte[] data) {
        byte[] both = Arrays.copyOf(pcrs[i], 32 + data.length);
        System.arraycopy(data, 0, both, 32, data.length);
        pcrs[i] = ReportDataBinding.sha256(both);
    }

    boolean defined(int index) {
        return nv.containsKey(index);
    }

    void define(int index, byte[] contents) {
        nv.put(index, contents.clone());
    }

    @Override
    public List<byte[]> vcekChain() {
        return tee.certificateChain();
    }

    @Override
    public byte[] tdQuote(byte[] tdReport) throws IOException {
        throw new IOException("the simulated VM is an SNP VM");
    }

    @Override
    public byte[] execute(byte[] command) {
        ByteBuffer c = ByteBuffer.wrap(command);
        int tag = c.getShort() & 0xFFFF;
        int size = c.getInt();
        int cc = c.getInt();
        if (size != command.length) {
            return error(0x095); // TPM_RC_COMMAND_SIZE
        }
        boolean authorised = cc == Tpm2.CC_NV_READ || cc == Tpm2.CC_NV_WRITE || cc == Tpm2.CC_NV_DEFINE_SPACE
                || cc == Tpm2.CC_QUOTE;
        int handleCount = switch (cc) {
            case Tpm2.CC_PCR_READ -> 0;
            case Tpm2.CC_NV_READ, Tpm2.CC_NV_WRITE -> 2;
            default -> 1;
        };
        if (tag != (authorised ? Tpm2.ST_SESSIONS : Tpm2.ST_NO_SESSIONS)) {
            return error(RC_BAD_TAG);
        }
        int[] h = new int[handleCount];
        for (int i = 0; i < handleCount; i++) {
            h[i] = c.getInt();
        }
        // exactly the empty password session: size 9, TPM_RS_PW, no nonce, no attributes, no password
        if (authorised && !(c.getInt() == 9 && c.getInt() == Tpm2.RS_PW && c.getShort() == 0 && c.get() == 0
                && c.getShort() == 0)) {
            return error(RC_AUTH_MISSING);
        }
        try {
            return switch (cc) {
                case Tpm2.CC_NV_READ_PUBLIC -> nvReadPublic(h[0]);
                case Tpm2.CC_PCR_READ -> pcrRead(c);
                case Tpm2.CC_NV_READ -> nvRead(h[1], c);
                case Tpm2.CC_NV_WRITE -> nvWrite(h[1], c);
                case Tpm2.CC_NV_DEFINE_SPACE -> h[0] == Tpm2.RH_OWNER ? nvDefine(c) : error(RC_HANDLE_1);
                case Tpm2.CC_QUOTE -> quote(h[0], c);
                default -> error(RC_COMMAND_CODE);
            };
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
    }

    private byte[] nvReadPublic(int index) {
        byte[] data = nv.get(index);
        if (data == null) {
            return error(RC_HANDLE_1);
        }
        ByteBuffer p = ByteBuffer.allocate(2 + 14 + 2 + 34);
        p.putShort((short) 14).putInt(index).putShort((short) Tpm2.ALG_SHA256).putInt(Tpm2.NV_ATTRIBUTES).putShort((short) 0)
                .putShort((short) data.length);
        p.putShort((short) 34).putShort((short) Tpm2.ALG_SHA256).put(new byte[32]); // the index's name
        return ok(Tpm2.ST_NO_SESSIONS, p.array());
    }

    private byte[] nvRead(int index, ByteBuffer c) {
        byte[] data = nv.get(index);
        if (data == null) {
            return error(0x28B); // TPM_RC_HANDLE + TPM_RC_2
        }
        int n = c.getShort() & 0xFFFF;
        int offset = c.getShort() & 0xFFFF;
        if (n > Tpm2.NV_CHUNK || offset + n > data.length) {
            return error(RC_NV_RANGE);
        }
        ByteBuffer p = ByteBuffer.allocate(2 + n).putShort((short) n).put(data, offset, n);
        return okWithSession(p.array());
    }

    private byte[] nvWrite(int index, ByteBuffer c) throws GeneralSecurityException {
        byte[] data = nv.get(index);
        if (data == null) {
            return error(0x28B);
        }
        byte[] in = new byte[c.getShort() & 0xFFFF];
        c.get(in);
        int offset = c.getShort() & 0xFFFF;
        if (offset + in.length > data.length) {
            return error(RC_NV_RANGE);
        }
        System.arraycopy(in, 0, data, offset, in.length);
        if (index == AzureVtpmProvider.USER_DATA_INDEX && paravisorRegenerates) {
            nv.put(AzureVtpmProvider.HCL_REPORT_INDEX, report(data));
        }
        return okWithSession(new byte[0]);
    }

    private byte[] nvDefine(ByteBuffer c) {
        c.get(new byte[c.getShort() & 0xFFFF]); // auth
        c.getShort(); // publicInfo size
        int index = c.getInt();
        c.getShort();
        c.getInt();
        c.get(new byte[c.getShort() & 0xFFFF]);
        int size = c.getShort() & 0xFFFF;
        if (nv.containsKey(index)) {
            return error(RC_NV_DEFINED);
        }
        nv.put(index, new byte[size]);
        return okWithSession(new byte[0]);
    }

    private byte[] pcrRead(ByteBuffer c) {
        SortedSet<Integer> asked;
        try {
            asked = Tpm2.readSelection(c);
        } catch (IOException e) {
            return error(0x1C4); // TPM_RC_VALUE
        }
        if (extendAfterReads == 0) {
            extend(10, "late measurement".getBytes(StandardCharsets.UTF_8));
        }
        if (extendAfterReads >= 0) {
            extendAfterReads--;
        }
        SortedSet<Integer> returned = new TreeSet<>(asked.stream().limit(8).toList()); // as real TPMs: at most 8
        byte[] selection = Tpm2.selection(returned);
        ByteBuffer p = ByteBuffer.allocate(4 + selection.length + 4 + returned.size() * 34);
        p.putInt(7).put(selection).putInt(returned.size());
        returned.forEach(i -> p.putShort((short) 32).put(pcrs[i]));
        return ok(Tpm2.ST_NO_SESSIONS, p.array());
    }

    private byte[] quote(int key, ByteBuffer c) throws GeneralSecurityException {
        if (key != AzureVtpmProvider.ATTESTATION_KEY) {
            return error(RC_HANDLE_1);
        }
        byte[] qualifying = new byte[c.getShort() & 0xFFFF];
        c.get(qualifying);
        int scheme = c.getShort() & 0xFFFF;
        int hash = c.getShort() & 0xFFFF;
        if (scheme != Tpm2.ALG_RSASSA || hash != Tpm2.ALG_SHA256) {
            return error(0x2D2); // TPM_RC_SCHEME + parameter 2
        }
        SortedSet<Integer> selected;
        try {
            selected = Tpm2.readSelection(c);
        } catch (IOException e) {
            return error(0x3C4);
        }
        quotes++;
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        selected.forEach(i -> md.update(pcrs[i]));
        byte[] select = Tpm2.selection(selected);
        ByteBuffer a = ByteBuffer.allocate(4 + 2 + 36 + 2 + qualifying.length + 17 + 8 + select.length + 34);
        a.putInt(0xFF544347).putShort((short) 0x8018).putShort((short) 34).putShort((short) Tpm2.ALG_SHA256).put(new byte[32])
                .putShort((short) qualifying.length).put(qualifying).put(new byte[17]).putLong(0x0001_0002L).put(select)
                .putShort((short) 32).put(md.digest());
        byte[] attest = a.array();
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(ak.getPrivate());
        s.update(attest);
        byte[] sig = s.sign();
        ByteBuffer p = ByteBuffer.allocate(2 + attest.length + 6 + sig.length);
        p.putShort((short) attest.length).put(attest).putShort((short) Tpm2.ALG_RSASSA).putShort((short) Tpm2.ALG_SHA256)
                .putShort((short) sig.length).put(sig);
        return okWithSession(p.array());
    }

    /** The paravisor's report for {@code userData}: runtime claims, bound by a simulated SNP report, in a padded NV index. */
    private byte[] report(byte[] userData) throws GeneralSecurityException {
        RSAPublicKey key = (RSAPublicKey) ak.getPublic();
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String claims = "{\"keys\":[{\"kid\":\"HCLAkPub\",\"key_ops\":[\"sign\"],\"kty\":\"RSA\",\"e\":\""
                + url.encodeToString(unsigned(key.getPublicExponent())) + "\",\"n\":\"" + url.encodeToString(unsigned(key.getModulus()))
                + "\"}],\"vm-configuration\":{\"console-enabled\":false,\"secure-boot\":true,\"tpm-enabled\":true},"
                + "\"user-data\":\"" + HexFormat.of().withUpperCase().formatHex(userData) + "\"}";
        byte[] claimBytes = claims.getBytes(StandardCharsets.UTF_8);
        byte[] binding = Arrays.copyOf(ReportDataBinding.sha256(claimBytes), 64);
        byte[] snpReport = tee.attest(measurement, binding).report();
        return Arrays.copyOf(HclReports.assemble(true, snpReport, claimBytes), 2600);
    }

    private static byte[] unsigned(java.math.BigInteger v) {
        byte[] b = v.toByteArray();
        return b[0] == 0 ? Arrays.copyOfRange(b, 1, b.length) : b;
    }

    private static byte[] ok(int tag, byte[] parameters) {
        return ByteBuffer.allocate(10 + parameters.length).putShort((short) tag).putInt(10 + parameters.length).putInt(0)
                .put(parameters).array();
    }

    private static byte[] okWithSession(byte[] parameters) {
        int size = 10 + 4 + parameters.length + 5;
        return ByteBuffer.allocate(size).putShort((short) Tpm2.ST_SESSIONS).putInt(size).putInt(0).putInt(parameters.length)
                .put(parameters).putShort((short) 0).put((byte) 1).putShort((short) 0).array();
    }

    private static byte[] error(int rc) {
        return ByteBuffer.allocate(10).putShort((short) Tpm2.ST_NO_SESSIONS).putInt(10).putInt(rc).array();
    }
}
