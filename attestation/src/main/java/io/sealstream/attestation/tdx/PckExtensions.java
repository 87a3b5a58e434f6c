package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;

/**
 * The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's FMSPC
 * and PCE id, which select the TCB Info that applies, and the TCB it was certified at (16 SGX TCB
 * component SVNs and the PCE SVN), which the TCB levels are compared with.
 *
 * @param fmspc the family-model-stepping-platform-custom-SKU, 6 bytes as upper-case hex
 * @param pceId the PCE id, 2 bytes as upper-case hex
 * @param sgxTcbComponents the 16 SGX TCB component SVNs
 * @param pceSvn the PCE SVN
 */
record PckExtensions(String fmspc, String pceId, int[] sgxTcbComponents, int pceSvn) {
    static final String SGX_EXTENSION = "1.2.840.113741.1.13.1";
    private static final String TCB = SGX_EXTENSION + ".2";
    private static final String PCE_SVN = TCB + ".17";
    private static final String PCE_ID = SGX_EXTENSION + ".3";
    private static final String FMSPC = SGX_EXTENSION + ".4";

    static PckExtensions of(X509Certificate pck) throws AttestationException {
        byte[] ext = pck.getExtensionValue(SGX_EXTENSION);
        if (ext == null) {
            throw bad("the PCK certificate has no Intel SGX extension (" + SGX_EXTENSION + ")");
        }
        String fmspc = null;
        String pceId = null;
        int[] comps = new int[16];
        int seen = 0;
        int pceSvn = -1;
        try {
            ASN1Sequence entries = ASN1Sequence.getInstance(
                    ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(ext).getOctets()));
            for (ASN1Encodable e : entries) {
                ASN1Sequence entry = ASN1Sequence.getInstance(e);
                String oid = ASN1ObjectIdentifier.getInstance(entry.getObjectAt(0)).getId();
                ASN1Encodable value = entry.getObjectAt(1);
                switch (oid) {
                    case FMSPC -> fmspc = hex(ASN1OctetString.getInstance(value).getOctets());
                    case PCE_ID -> pceId = hex(ASN1OctetString.getInstance(value).getOctets());
                    case TCB -> {
                        for (ASN1Encodable t : ASN1Sequence.getInstance(value)) {
                            ASN1Sequence comp = ASN1Sequence.getInstance(t);
                            String compOid = ASN1ObjectIdentifier.getInstance(comp.getObjectAt(0)).getId();
                            String suffix = compOid.startsWith(TCB + ".") ? compOid.substring(TCB.length() + 1) : "";
                            if (compOid.equals(PCE_SVN)) {
                                pceSvn = ASN1Integer.getInstance(comp.getObjectAt(1)).intValueExact();
                            } else if (suffix.matches("[1-9]|1[0-6]")) {
                                comps[Integer.parseInt(suffix) - 1] =
                                        ASN1Integer.getInstance(comp.getObjectAt(1)).intValueExact();
                                seen++;
                            }
                        }
                    }
                    default -> { } // PPID, SGX type, platform instance: not needed for TCB status
                }
            }
        } catch (java.io.IOException | IllegalArgumentException | ArithmeticException e) {
            throw bad("the PCK certificate's Intel SGX extension is not the expected ASN.1 structure");
        }
        if (fmspc == null || pceId == null || seen != 16 || pceSvn < 0) {
            throw bad("the PCK certificate's Intel SGX extension lacks FMSPC, PCE id or the TCB (16 SVNs and PCESVN)");
        }
        return new PckExtensions(fmspc, pceId, comps, pceSvn);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().withUpperCase().formatHex(b);
    }

    private static AttestationException bad(String what) {
        return new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, what);
    }
}
