package io.sealstream.attestation.azure;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A TPM 2.0 quote: the TPMS_ATTEST structure a TPM signs (big-endian; TPM 2.0 Part 2, 10.12) with
 * the PCRs it selected and their digest, and a way to check the signature and the PCR values that
 * came beside it. Only SHA-256 PCR banks are accepted: a SHA-1 bank proves less and Azure's vTPM
 * quotes SHA-256.
 */
public final class TpmQuote {
    private static final int MAGIC = 0xFF544347; // TPM_GENERATED_VALUE
    private static final int TYPE_QUOTE = 0x8018; // TPM_ST_ATTEST_QUOTE
    private static final int ALG_SHA256 = 0x000B;
    private static final int ALG_RSASSA = 0x0014;
    /** More than any real quote; refused before parsing. */
    static final int MAX_LENGTH = 1024;
    /** PCR indices a TPM has. */
    public static final int PCR_COUNT = 24;

    private final byte[] message;
    private final byte[] qualifyingData;
    private final SortedSet<Integer> selectedPcrs;
    private final byte[] pcrDigest;

    private TpmQuote(byte[] message, byte[] qualifyingData, SortedSet<Integer> selectedPcrs, byte[] pcrDigest) {
        this.message = message;
        this.qualifyingData = qualifyingData;
        this.selectedPcrs = Collections.unmodifiableSortedSet(selectedPcrs);
        this.pcrDigest = pcrDigest;
    }

    /**
     * Parses a TPMS_ATTEST of type quote; every length is checked and nothing may follow it.
     *
     * @throws AttestationException MALFORMED_EVIDENCE naming the field that is wrong
     */
    public static TpmQuote parse(byte[] message) throws AttestationException {
        if (message == null || message.length > MAX_LENGTH) {
            throw malformed("a TPM quote has at most " + MAX_LENGTH + " bytes, got " + (message == null ? 0 : message.length));
        }
        ByteBuffer b = ByteBuffer.wrap(message);
        try {
            if (b.getInt() != MAGIC) {
                throw malformed("the TPM quote does not start with TPM_GENERATED_VALUE: the TPM did not make it");
            }
            int type = b.getShort() & 0xFFFF;
            if (type != TYPE_QUOTE) {
                throw malformed("the TPM attestation is of type 0x" + Integer.toHexString(type) + ", not a quote (0x8018)");
            }
            sized(b, "qualifiedSigner");
            byte[] extra = sized(b, "extraData");
            b.position(b.position() + 17 + 8); // clock info, firmware version
            long count = Integer.toUnsignedLong(b.getInt());
            if (count != 1) {
                throw malformed("the TPM quote selects " + count + " PCR banks; expected exactly one, SHA-256");
            }
            int hash = b.getShort() & 0xFFFF;
            if (hash != ALG_SHA256) {
                throw malformed("the TPM quote's PCR bank is algorithm 0x" + Integer.toHexString(hash) + ", not SHA-256");
            }
            int selectSize = b.get() & 0xFF;
            if (selectSize < 3 || selectSize > 4) {
                throw malformed("the TPM quote's PCR select has " + selectSize + " bytes; expected 3");
            }
            SortedSet<Integer> selected = Tpm2.bitmap(b, selectSize);
            if (selected.isEmpty() || selected.last() >= PCR_COUNT) {
                throw malformed("the TPM quote selects no PCR, or one past PCR 23");
            }
            byte[] digest = sized(b, "pcrDigest");
            if (digest.length != 32) {
                throw malformed("the TPM quote's PCR digest has " + digest.length + " bytes, not 32");
            }
            if (b.hasRemaining()) {
                throw malformed("the TPM quote has " + b.remaining() + " bytes after its PCR digest");
            }
            return new TpmQuote(message.clone(), extra, selected, digest);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw malformed("the TPM quote ends inside a field (" + message.length + " bytes)");
        }
    }

    /** The caller's qualifying data (the nonce), as the TPM signed it. */
    public byte[] qualifyingData() {
        return qualifyingData.clone();
    }

    /** The PCR indices the quote covers, ascending. */
    public SortedSet<Integer> selectedPcrs() {
        return selectedPcrs;
    }

    /** The signed bytes. */
    public byte[] message() {
        return message.clone();
    }

    /**
     * Checks an RSASSA-PKCS1-v1.5 / SHA-256 signature over the quote with {@code key}. The signature
     * is either the raw bytes (as long as the modulus) or a TPMT_SIGNATURE that names RSASSA and
     * SHA-256.
     *
     * @throws AttestationException BAD_SIGNATURE if it does not verify, MALFORMED_EVIDENCE if it is
     *     neither shape
     */
    public void verifySignature(PublicKey key, byte[] signature) throws AttestationException {
        if (!(key instanceof RSAPublicKey rsa)) {
            throw new AttestationException(AttestationFailure.VTPM_MISMATCH, "the vTPM attestation key is not an RSA key");
        }
        int modulusBytes = (rsa.getModulus().bitLength() + 7) / 8;
        byte[] raw = signature;
        if (signature.length != modulusBytes) {
            ByteBuffer b = ByteBuffer.wrap(signature);
            if (signature.length != modulusBytes + 6 || (b.getShort() & 0xFFFF) != ALG_RSASSA
                    || (b.getShort() & 0xFFFF) != ALG_SHA256 || (b.getShort() & 0xFFFF) != modulusBytes) {
                throw malformed("the TPM quote signature is neither " + modulusBytes + " raw bytes nor a TPMT_SIGNATURE "
                        + "of RSASSA with SHA-256 (" + signature.length + " bytes)");
            }
            raw = Arrays.copyOfRange(signature, 6, signature.length);
        }
        try {
            Signature s = Signature.getInstance("SHA256withRSA");
            s.initVerify(rsa);
            s.update(message);
            if (s.verify(raw)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // an unusable signature is a bad one
        }
        throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "the vTPM quote does not verify with the "
                + "attestation key the runtime claims name");
    }

    /**
     * The PCR values that came with the quote, checked against it: exactly the selected indices,
     * 32 bytes each, whose concatenation in ascending order hashes to the signed digest.
     *
     * @return the values by index, ascending
     * @throws AttestationException VTPM_MISMATCH otherwise
     */
    public SortedMap<Integer, byte[]> checkPcrs(Map<Integer, byte[]> values) throws AttestationException {
        if (!values.keySet().equals(selectedPcrs)) {
            throw new AttestationException(AttestationFailure.VTPM_MISMATCH, "the evidence carries PCRs " + new TreeSet<>(
                    values.keySet()) + " but the vTPM quote covers " + selectedPcrs + "; send exactly the quoted PCRs");
        }
        SortedMap<Integer, byte[]> sorted = new TreeMap<>();
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int i : selectedPcrs) {
                byte[] v = values.get(i);
                if (v == null || v.length != 32) {
                    throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "PCR " + i + " is not a 32-byte "
                            + "SHA-256 value");
                }
                md.update(v);
                sorted.put(i, v.clone());
            }
            if (!MessageDigest.isEqual(md.digest(), pcrDigest)) {
                throw new AttestationException(AttestationFailure.VTPM_MISMATCH, "the PCR values do not hash to the digest "
                        + "the vTPM signed: they are not the values it quoted");
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return Collections.unmodifiableSortedMap(sorted);
    }

    private static byte[] sized(ByteBuffer b, String field) throws AttestationException {
        int size = b.getShort() & 0xFFFF;
        if (size > b.remaining()) {
            throw malformed("the TPM quote's " + field + " says " + size + " bytes, " + b.remaining() + " remain");
        }
        byte[] out = new byte[size];
        b.get(out);
        return out;
    }

    private static AttestationException malformed(String what) {
        return new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, what);
    }
}
