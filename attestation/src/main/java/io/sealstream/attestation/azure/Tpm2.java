package io.sealstream.attestation.azure;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The few TPM 2.0 commands the Azure evidence provider needs (TPM 2.0 Part 3), marshalled by hand
 * over a {@link TpmDevice}: NV_ReadPublic, NV_DefineSpace, NV_Write, NV_Read, PCR_Read and Quote.
 * Authorisation is the password session with an empty password, as Azure's vTPM indices and
 * attestation key take it. Every response is checked for its code and its lengths.
 */
final class Tpm2 {
    static final int ST_NO_SESSIONS = 0x8001;
    static final int ST_SESSIONS = 0x8002;
    static final int CC_NV_DEFINE_SPACE = 0x0000012A;
    static final int CC_NV_WRITE = 0x00000137;
    static final int CC_NV_READ = 0x0000014E;
    static final int CC_QUOTE = 0x00000158;
    static final int CC_NV_READ_PUBLIC = 0x00000169;
    static final int CC_PCR_READ = 0x0000017E;
    static final int RS_PW = 0x40000009;
    static final int RH_OWNER = 0x40000001;
    static final int ALG_SHA256 = 0x000B;
    static final int ALG_RSASSA = 0x0014;
    /** Read and written in pieces no TPM refuses (every TPM's MAX_NV_BUFFER_SIZE is at least this). */
    static final int NV_CHUNK = 512;
    /** OWNERWRITE | AUTHWRITE | OWNERREAD | AUTHREAD, an ordinary index. */
    static final int NV_ATTRIBUTES = (1 << 1) | (1 << 2) | (1 << 17) | (1 << 18);

    private final TpmDevice device;

    Tpm2(TpmDevice device) {
        this.device = device;
    }

    /** The data size of NV index {@code index}, or empty when it is not defined. */
    Optional<Integer> nvSize(int index) throws IOException {
        ByteBuffer r = call(command(ST_NO_SESSIONS, CC_NV_READ_PUBLIC, new int[] {index}, false, new byte[0]), true);
        if (r == null) {
            return Optional.empty();
        }
        int publicSize = u16(r);
        ByteBuffer pub = slice(r, publicSize);
        pub.getInt(); // nvIndex
        pub.getShort(); // nameAlg
        pub.getInt(); // attributes
        slice(pub, u16(pub)); // authPolicy
        return Optional.of(u16(pub));
    }

    /** Defines an ordinary NV index of {@code size} bytes, owner-authorised, with an empty password. */
    void nvDefine(int index, int size) throws IOException {
        ByteBuffer p = ByteBuffer.allocate(2 + 2 + 14);
        p.putShort((short) 0); // auth: empty
        p.putShort((short) 14).putInt(index).putShort((short) ALG_SHA256).putInt(NV_ATTRIBUTES).putShort((short) 0)
                .putShort((short) size);
        call(command(ST_SESSIONS, CC_NV_DEFINE_SPACE, new int[] {RH_OWNER}, true, p.array()), false);
    }

    /** Writes {@code data} to NV index {@code index} from offset 0. */
    void nvWrite(int index, byte[] data) throws IOException {
        for (int offset = 0; offset < data.length; offset += NV_CHUNK) {
            int n = Math.min(NV_CHUNK, data.length - offset);
            ByteBuffer p = ByteBuffer.allocate(2 + n + 2);
            p.putShort((short) n).put(data, offset, n).putShort((short) offset);
            call(command(ST_SESSIONS, CC_NV_WRITE, new int[] {index, index}, true, p.array()), false);
        }
    }

    /** Reads {@code size} bytes of NV index {@code index}. */
    byte[] nvRead(int index, int size) throws IOException {
        byte[] out = new byte[size];
        for (int offset = 0; offset < size; offset += NV_CHUNK) {
            int n = Math.min(NV_CHUNK, size - offset);
            ByteBuffer p = ByteBuffer.allocate(4).putShort((short) n).putShort((short) offset);
            ByteBuffer r = call(command(ST_SESSIONS, CC_NV_READ, new int[] {index, index}, true, p.array()), false);
            r.getInt(); // parameterSize
            int got = u16(r);
            if (got != n) {
                throw new IOException("the TPM returned " + got + " bytes of NV index 0x" + Integer.toHexString(index)
                        + " where " + n + " were asked for");
            }
            r.get(out, offset, n);
        }
        return out;
    }

    /** The SHA-256 bank's values of {@code pcrs}, ascending; a TPM returns at most eight per call. */
    SortedMap<Integer, byte[]> pcrRead(SortedSet<Integer> pcrs) throws IOException {
        SortedMap<Integer, byte[]> out = new TreeMap<>();
        SortedSet<Integer> left = new TreeSet<>(pcrs);
        while (!left.isEmpty()) {
            ByteBuffer r = call(command(ST_NO_SESSIONS, CC_PCR_READ, new int[0], false, selection(left)), false);
            r.getInt(); // pcrUpdateCounter
            SortedSet<Integer> returned = readSelection(r);
            int count = r.getInt();
            if (count != returned.size() || returned.isEmpty() || !left.containsAll(returned)) {
                throw new IOException("the TPM's PCR_Read answer selects " + returned + " with " + count + " digests");
            }
            for (int i : returned) {
                byte[] digest = new byte[u16(r)];
                r.get(digest);
                if (digest.length != 32) {
                    throw new IOException("the TPM returned a " + digest.length + "-byte SHA-256 PCR value");
                }
                out.put(i, digest);
                left.remove(i);
            }
        }
        return Collections.unmodifiableSortedMap(out);
    }

    /**
     * A quote of the SHA-256 values of {@code pcrs} by key {@code key} (RSASSA, SHA-256) over
     * {@code qualifyingData}.
     *
     * @return the TPMS_ATTEST bytes and the TPMT_SIGNATURE bytes
     */
    byte[][] quote(int key, byte[] qualifyingData, SortedSet<Integer> pcrs) throws IOException {
        byte[] select = selection(pcrs);
        ByteBuffer p = ByteBuffer.allocate(2 + qualifyingData.length + 4 + select.length);
        p.putShort((short) qualifyingData.length).put(qualifyingData).putShort((short) ALG_RSASSA)
                .putShort((short) ALG_SHA256).put(select);
        ByteBuffer r = call(command(ST_SESSIONS, CC_QUOTE, new int[] {key}, true, p.array()), false);
        r.getInt(); // parameterSize
        byte[] attest = new byte[u16(r)];
        r.get(attest);
        int start = r.position();
        r.getShort(); // sigAlg
        r.getShort(); // hash
        slice(r, u16(r));
        byte[] signature = Arrays.copyOfRange(r.array(), start, r.position());
        return new byte[][] {attest, signature};
    }

    /** A TPML_PCR_SELECTION of the SHA-256 bank. */
    static byte[] selection(SortedSet<Integer> pcrs) {
        byte[] bits = new byte[3];
        pcrs.forEach(i -> bits[i / 8] |= (byte) (1 << (i % 8)));
        return ByteBuffer.allocate(4 + 2 + 1 + 3).putInt(1).putShort((short) ALG_SHA256).put((byte) 3).put(bits).array();
    }

    /** Reads a TPML_PCR_SELECTION of one SHA-256 bank. */
    static SortedSet<Integer> readSelection(ByteBuffer b) throws IOException {
        if (b.getInt() != 1 || (b.getShort() & 0xFFFF) != ALG_SHA256) {
            throw new IOException("a PCR selection of other than one SHA-256 bank");
        }
        return bitmap(b, b.get() & 0xFF);
    }

    /** The PCR indices a pcrSelect bitmap of {@code size} bytes names (bit n of byte i is PCR 8i + n). */
    static SortedSet<Integer> bitmap(ByteBuffer b, int size) {
        SortedSet<Integer> out = new TreeSet<>();
        for (int i = 0; i < size; i++) {
            int bits = b.get() & 0xFF;
            for (int bit = 0; bit < 8; bit++) {
                if ((bits & (1 << bit)) != 0) {
                    out.add(i * 8 + bit);
                }
            }
        }
        return out;
    }

    /** A command: header, handles, the empty password session when {@code authorised}, parameters. */
    static byte[] command(int tag, int code, int[] handles, boolean authorised, byte[] parameters) {
        int size = 10 + 4 * handles.length + (authorised ? 4 + 9 : 0) + parameters.length;
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putShort((short) tag).putInt(size).putInt(code);
        for (int h : handles) {
            b.putInt(h);
        }
        if (authorised) {
            b.putInt(9).putInt(RS_PW).putShort((short) 0).put((byte) 0).putShort((short) 0);
        }
        b.put(parameters);
        return b.array();
    }

    /**
     * Executes a command and returns its response after the header. A handle error answers null
     * when {@code handleErrorIsAbsence}; any other non-zero response code fails.
     */
    private ByteBuffer call(byte[] command, boolean handleErrorIsAbsence) throws IOException {
        byte[] response = device.execute(command);
        ByteBuffer b = ByteBuffer.wrap(response);
        try {
            b.getShort();
            long size = Integer.toUnsignedLong(b.getInt());
            int rc = b.getInt();
            if (size != response.length) {
                throw new IOException("the TPM's response says " + size + " bytes and has " + response.length);
            }
            if (rc != 0) {
                if (handleErrorIsAbsence && (rc & 0x80) != 0 && (rc & 0x3F) == 0x0B) {
                    return null;
                }
                throw new IOException("the TPM refused command 0x" + Integer.toHexString(ByteBuffer.wrap(command).getInt(6))
                        + " with response code 0x" + Integer.toHexString(rc));
            }
            return b;
        } catch (BufferUnderflowException e) {
            throw new IOException("the TPM's response is truncated (" + response.length + " bytes)");
        }
    }

    private static int u16(ByteBuffer b) {
        return b.getShort() & 0xFFFF;
    }

    private static ByteBuffer slice(ByteBuffer b, int n) throws IOException {
        if (n > b.remaining()) {
            throw new IOException("the TPM's response has a field of " + n + " bytes where " + b.remaining() + " remain");
        }
        ByteBuffer s = b.slice(b.position(), n);
        b.position(b.position() + n);
        return s;
    }
}
