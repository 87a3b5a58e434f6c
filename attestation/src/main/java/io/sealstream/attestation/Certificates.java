package io.sealstream.attestation;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * What every verifier does with the certificates that come with evidence (SNP, TDX, Azure's
 * attestation key, NVIDIA GPUs): read them, pin a root by fingerprint, check validity and CA
 * rights, each failure as the same {@link AttestationFailure} with a printable name.
 */
public final class Certificates {
    private Certificates() {
    }

    /**
     * Reads DER certificates (a DER value followed by padding reads as the value), in order.
     *
     * @throws AttestationException BAD_CERTIFICATE_CHAIN naming which one is not X.509
     */
    public static List<X509Certificate> parse(List<byte[]> der, String what) throws AttestationException {
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (byte[] d : der) {
                out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(d)));
            }
        } catch (CertificateException e) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN,
                    "certificate " + (out.size() + 1) + " of " + what + " is not a DER X.509 certificate");
        }
        return out;
    }

    /** SHA-256 of the certificate's DER, lower-case hex: how roots are pinned. */
    public static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Requires {@code cert} to be valid at {@code at}.
     *
     * @throws AttestationException CERTIFICATE_EXPIRED
     */
    public static void requireValid(X509Certificate cert, Instant at) throws AttestationException {
        try {
            cert.checkValidity(Date.from(at));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new AttestationException(AttestationFailure.CERTIFICATE_EXPIRED, "certificate '" + name(cert)
                    + "' is not valid at " + at);
        }
    }

    /** Whether {@code issuer} is a CA allowed to sign certificates and is named as {@code cert}'s issuer. */
    public static boolean mayIssue(X509Certificate issuer, X509Certificate cert) {
        boolean[] usage = issuer.getKeyUsage();
        return issuer.getBasicConstraints() >= 0 && (usage == null || (usage.length >= 6 && usage[5]))
                && cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal());
    }

    /** The subject's common name, or "" when it has none. */
    public static String commonName(X509Certificate cert) {
        for (String part : cert.getSubjectX500Principal().getName().split(",")) {
            if (part.startsWith("CN=")) {
                return part.substring(3);
            }
        }
        return "";
    }

    /** The subject's name, made safe for messages. */
    public static String name(X509Certificate cert) {
        return EvidenceText.printable(cert.getSubjectX500Principal().getName());
    }
}
