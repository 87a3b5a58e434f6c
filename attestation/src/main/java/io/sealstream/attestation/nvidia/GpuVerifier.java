package io.sealstream.attestation.nvidia;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Certificates;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERSequence;

/**
 * Verifies an NVIDIA confidential-computing GPU's attestation report as of a given instant: the
 * certificate chain (GSP FMC leaf, GSP BROM, provisioner and identity CAs) to NVIDIA's Device
 * Identity CA, pinned by fingerprint; the SPDM signature (ECDSA P-384 / SHA-384) with the leaf's
 * key over request and response; the request nonce against the one expected; and, where the
 * leaf's extension 2.23.133.5.4.1 carries a firmware id, that it is the report's FWID. It does
 * not ask NVIDIA's OCSP responder or RIM service (offline by design); a policy decides on versions.
 */
public final class GpuVerifier {
    /** SHA-256 of the DER of "NVIDIA Device Identity CA", lower-case hex. */
    public static final String NVIDIA_DEVICE_IDENTITY_CA_FINGERPRINT =
            "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48";
    /** TCG DICE TcbInfo. */
    private static final String DICE_TCB_INFO = "2.23.133.5.4.1";
    private static final int MAX_CHAIN = 6;

    private final String trustedRoot;

    private GpuVerifier(String trustedRoot) {
        this.trustedRoot = trustedRoot;
    }

    /** Trusts NVIDIA's Device Identity CA, pinned by fingerprint. */
    public static GpuVerifier withNvidiaRoot() {
        return new GpuVerifier(NVIDIA_DEVICE_IDENTITY_CA_FINGERPRINT);
    }

    /**
     * Verifies {@code evidence} and that its request carries {@code expectedNonce}.
     *
     * @throws AttestationException for exactly one reason: MALFORMED_EVIDENCE, BAD_CERTIFICATE_CHAIN,
     *     UNKNOWN_ROOT, CERTIFICATE_EXPIRED, BAD_SIGNATURE, TCB_MISMATCH (FWID), STALE_NONCE
     */
    public GpuClaims verify(GpuEvidence evidence, byte[] expectedNonce, Instant at) throws AttestationException {
        if (evidence.certificates().size() < 2 || evidence.certificates().size() > MAX_CHAIN) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "a GPU chain has the leaf to NVIDIA's "
                    + "Device Identity CA, 2 to " + MAX_CHAIN + " certificates; got " + evidence.certificates().size());
        }
        GpuReport report = GpuReport.parse(evidence.report());
        List<X509Certificate> chain = Certificates.parse(evidence.certificates(), "the GPU chain");
        X509Certificate root = chain.get(chain.size() - 1);
        String rootPrint = Certificates.fingerprint(root);
        if (!rootPrint.equals(trustedRoot)) {
            throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "the GPU chain ends in '"
                    + Certificates.name(root) + "' (SHA-256 " + rootPrint
                    + "), not NVIDIA's Device Identity CA");
        }
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            X509Certificate issuer = chain.get(Math.min(i + 1, chain.size() - 1));
            Certificates.requireValid(c, at);
            if (!Certificates.mayIssue(issuer, c)) {
                throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "certificate '"
                        + Certificates.name(c) + "' is not issued by the CA after it in the chain");
            }
            try {
                c.verify(issuer.getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "certificate '"
                        + Certificates.name(c) + "' is not signed by '" + Certificates.name(issuer) + "'");
            }
        }
        X509Certificate leaf = chain.get(0);
        if (!signatureHolds(leaf, report)) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "the GPU report's signature does not verify "
                    + "with its leaf certificate's key");
        }
        Optional<String> certifiedFwid = certifiedFwid(leaf);
        if (certifiedFwid.isPresent() && report.fwid().isPresent() && !certifiedFwid.get().equals(report.fwid().get())) {
            throw new AttestationException(AttestationFailure.TCB_MISMATCH, "the GPU report's FWID is not the firmware id "
                    + "its leaf certificate was issued for");
        }
        if (!MessageDigest.isEqual(report.requestNonce(), expectedNonce)) {
            throw new AttestationException(AttestationFailure.STALE_NONCE, "the GPU report answers another nonce: it was "
                    + "made for another attestation; ask the GPU again with this one");
        }
        return new GpuClaims(hardwareModel(chain), architecture(chain), report.driverVersion(), report.vbiosVersion(),
                report.measurements());
    }

    private static boolean signatureHolds(X509Certificate leaf, GpuReport report) {
        byte[] raw = report.signature();
        try {
            ASN1EncodableVector rs = new ASN1EncodableVector();
            rs.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(raw, 0, 48))));
            rs.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(raw, 48, 96))));
            byte[] der = new DERSequence(rs).getEncoded();
            Signature s = Signature.getInstance("SHA384withECDSA");
            s.initVerify(leaf.getPublicKey());
            s.update(report.signedBytes());
            return s.verify(der);
        } catch (GeneralSecurityException | java.io.IOException e) {
            return false;
        }
    }

    /**
     * The firmware id the leaf was issued for: NVIDIA's GSP FMC leaf carries it as the last 48 bytes
     * (a SHA-384 digest, after its OID) of extension 2.23.133.5.4.1; empty when the leaf has none.
     */
    static Optional<String> certifiedFwid(X509Certificate leaf) {
        byte[] ext = leaf.getExtensionValue(DICE_TCB_INFO);
        if (ext == null) {
            return Optional.empty();
        }
        try {
            byte[] inner = ASN1OctetString.getInstance(ext).getOctets();
            return inner.length < 48 ? Optional.empty()
                    : Optional.of(HexFormat.of().formatHex(Arrays.copyOfRange(inner, inner.length - 48, inner.length)));
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // not an octet string: nothing certified to compare with
        }
    }

    /** The GPU's model as its BROM certificate names it, e.g. "GH100 A01 GSP BROM". */
    private static String hardwareModel(List<X509Certificate> chain) {
        return Certificates.commonName(chain.get(Math.min(1, chain.size() - 1)));
    }

    /** HOPPER for GH100, BLACKWELL for GB100/GB200, else the chip name. */
    private static String architecture(List<X509Certificate> chain) {
        String model = Certificates.commonName(chain.get(0)).toUpperCase(Locale.ROOT);
        if (model.startsWith("GH1")) {
            return "HOPPER";
        }
        if (model.startsWith("GB")) {
            return "BLACKWELL";
        }
        return model.split(" ")[0];
    }
}
