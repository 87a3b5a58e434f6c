package io.sealstream.attestation.nvidia;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An NVIDIA confidential-computing GPU's attestation report: the SPDM 1.1 GET_MEASUREMENTS request
 * the relying party's nonce went into, followed by the GPU's signed MEASUREMENTS response (DMTF
 * DSP0274): measurement blocks, the GPU's own nonce, NVIDIA's opaque data (TLVs: driver and VBIOS
 * version, FWID, ...), and an ECDSA P-384 signature over everything before it. Little-endian
 * lengths; every one is checked against the bytes present.
 */
public final class GpuReport {
    /** The request: version 1.1, GET_MEASUREMENTS, signature requested, all blocks, nonce, slot. */
    static final int REQUEST_LENGTH = 37;
    static final int SIGNATURE_LENGTH = 96;
    /** Larger than any real report (about 4.3 KiB with 64 blocks). */
    static final int MAX_LENGTH = 16 * 1024;
    /** Opaque data types (NVIDIA's layout). */
    static final int OPAQUE_DRIVER_VERSION = 3;
    static final int OPAQUE_VBIOS_VERSION = 6;
    static final int OPAQUE_FWID = 20;

    private final byte[] raw;
    private final byte[] requestNonce;
    private final SortedMap<Integer, byte[]> measurements;
    private final Map<Integer, byte[]> opaque;
    private final int signedLength;

    private GpuReport(byte[] raw, byte[] requestNonce, SortedMap<Integer, byte[]> measurements, Map<Integer, byte[]> opaque,
                      int signedLength) {
        this.raw = raw;
        this.requestNonce = requestNonce;
        this.measurements = measurements;
        this.opaque = opaque;
        this.signedLength = signedLength;
    }

    /**
     * Parses request and response.
     *
     * @throws AttestationException MALFORMED_EVIDENCE naming the field that is wrong
     */
    public static GpuReport parse(byte[] bytes) throws AttestationException {
        if (bytes == null || bytes.length < REQUEST_LENGTH + 8 + 32 + 2 + SIGNATURE_LENGTH || bytes.length > MAX_LENGTH) {
            throw malformed("a GPU attestation report has " + (REQUEST_LENGTH + 8 + 32 + 2 + SIGNATURE_LENGTH) + " to "
                    + MAX_LENGTH + " bytes, got " + (bytes == null ? 0 : bytes.length));
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (b.get(0) != 0x11 || (b.get(1) & 0xFF) != 0xE0 || (b.get(2) & 1) == 0) {
            throw malformed("the GPU report does not start with an SPDM 1.1 GET_MEASUREMENTS request asking for a signature");
        }
        byte[] nonce = Arrays.copyOfRange(bytes, 4, 36);
        b.position(REQUEST_LENGTH);
        if (b.get() != 0x11 || (b.get() & 0xFF) != 0x60) {
            throw malformed("the GPU report's response is not an SPDM 1.1 MEASUREMENTS response");
        }
        b.get();
        b.get();
        int blocks = b.get() & 0xFF;
        int recordLength = (b.get() & 0xFF) | (b.get() & 0xFF) << 8 | (b.get() & 0xFF) << 16;
        if (recordLength > b.remaining() - 32 - 2 - SIGNATURE_LENGTH) {
            throw malformed("the measurement record says " + recordLength + " bytes, " + b.remaining() + " remain");
        }
        ByteBuffer record = b.slice(b.position(), recordLength).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + recordLength);
        SortedMap<Integer, byte[]> measurements = new TreeMap<>();
        for (int i = 0; i < blocks; i++) {
            if (record.remaining() < 4) {
                throw malformed("the measurement record ends inside block " + i);
            }
            int index = record.get() & 0xFF;
            record.get(); // measurement specification: DMTF
            int size = record.getShort() & 0xFFFF;
            if (size < 3 || size > record.remaining()) {
                throw malformed("measurement block " + index + " says " + size + " bytes, " + record.remaining() + " remain");
            }
            record.get(); // DMTF value type
            int valueSize = record.getShort() & 0xFFFF;
            if (valueSize != size - 3) {
                throw malformed("measurement block " + index + "'s value size " + valueSize + " disagrees with its block size");
            }
            byte[] value = new byte[valueSize];
            record.get(value);
            if (measurements.put(index, value) != null) {
                throw malformed("measurement block " + index + " appears twice");
            }
        }
        if (record.hasRemaining()) {
            throw malformed("the measurement record has " + record.remaining() + " bytes after its last block");
        }
        b.position(b.position() + 32); // the responder's nonce
        int opaqueLength = b.getShort() & 0xFFFF;
        if (opaqueLength != b.remaining() - SIGNATURE_LENGTH) {
            throw malformed("the opaque data says " + opaqueLength + " bytes, but " + (b.remaining() - SIGNATURE_LENGTH)
                    + " lie before the signature");
        }
        Map<Integer, byte[]> opaque = new TreeMap<>();
        ByteBuffer o = b.slice(b.position(), opaqueLength).order(ByteOrder.LITTLE_ENDIAN);
        while (o.hasRemaining()) {
            if (o.remaining() < 4) {
                throw malformed("the opaque data ends inside a field header");
            }
            int type = o.getShort() & 0xFFFF;
            int length = o.getShort() & 0xFFFF;
            if (length > o.remaining()) {
                throw malformed("opaque field " + type + " says " + length + " bytes, " + o.remaining() + " remain");
            }
            byte[] value = new byte[length];
            o.get(value);
            opaque.putIfAbsent(type, value);
        }
        return new GpuReport(bytes.clone(), nonce, Collections.unmodifiableSortedMap(measurements),
                Collections.unmodifiableMap(opaque), bytes.length - SIGNATURE_LENGTH);
    }

    /** The relying party's 32-byte nonce, as the GPU signed it. */
    public byte[] requestNonce() {
        return requestNonce.clone();
    }

    /** The measurement values by SPDM block index (a RIM's index i is block i + 1). */
    public SortedMap<Integer, byte[]> measurements() {
        SortedMap<Integer, byte[]> out = new TreeMap<>();
        measurements.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /** The driver version the GPU reports, e.g. {@code 580.159.03}. */
    public Optional<String> driverVersion() {
        return Optional.ofNullable(opaque.get(OPAQUE_DRIVER_VERSION))
                .map(v -> new String(v, StandardCharsets.US_ASCII).replace("\0", "").trim());
    }

    /** The VBIOS version in its usual text form, e.g. {@code 96.00.74.00.20}. */
    public Optional<String> vbiosVersion() {
        byte[] v = opaque.get(OPAQUE_VBIOS_VERSION);
        if (v == null || v.length < 5) {
            return Optional.empty();
        }
        return Optional.of(String.format("%02X.%02X.%02X.%02X.%02X", v[3] & 0xFF, v[2] & 0xFF, v[1] & 0xFF, v[0] & 0xFF,
                v[4] & 0xFF));
    }

    /** The firmware id, where the report carries it. */
    public Optional<String> fwid() {
        return Optional.ofNullable(opaque.get(OPAQUE_FWID)).map(HexFormat.of()::formatHex);
    }

    /** The bytes the signature covers: request and response up to the signature. */
    byte[] signedBytes() {
        return Arrays.copyOf(raw, signedLength);
    }

    /** The raw signature, r then s, 48 bytes each, big-endian. */
    byte[] signature() {
        return Arrays.copyOfRange(raw, signedLength, raw.length);
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }
}
