package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;

/**
 * Verifies an Intel TDX v4 quote as of a given instant: the quote signature over header and TD
 * report body with the attestation key; the QE report signature with the PCK certificate's key;
 * the QE report data binding the attestation key and the QE authentication data; and the PCK
 * chain (PCK → Platform/Processor CA → Intel SGX Root CA) to the pinned root. TCB status needs
 * Intel's TCB Info and QE Identity collateral, which this verifier does not evaluate yet: the
 * claims carry no TCB status then, and a policy that lists accepted statuses cannot be met.
 */
public final class TdxVerifier implements EvidenceVerifier {
    /** SHA-256 fingerprint of Intel's SGX Root CA certificate, lower-case hex. */
    public static final String INTEL_SGX_ROOT_CA_FINGERPRINT =
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

    private final String trustedRoot;

    private TdxVerifier(String trustedRoot) {
        this.trustedRoot = trustedRoot;
    }

    /** Trusts Intel's SGX Root CA, pinned by fingerprint. */
    public static TdxVerifier withIntelRoot() {
        return new TdxVerifier(INTEL_SGX_ROOT_CA_FINGERPRINT);
    }

    @Override
    public AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException {
        if (evidence.tee() != TeeType.TDX) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "a TDX verifier got "
                    + evidence.tee().id() + " evidence");
        }
        TdxQuote quote = TdxQuote.parse(evidence.report());
        List<X509Certificate> chain = pemChain(quote.pckChainPem());
        if (chain.size() < 3) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the quote's PCK chain has "
                    + chain.size() + " certificates; expected PCK, intermediate CA and Intel SGX Root CA");
        }
        X509Certificate root = chain.get(chain.size() - 1);
        String rootPrint = fingerprint(root);
        if (!rootPrint.equals(trustedRoot)) {
            throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "the PCK chain ends in '"
                    + root.getSubjectX500Principal().getName() + "' (SHA-256 " + rootPrint
                    + "), not Intel's SGX Root CA");
        }
        Date when = Date.from(at);
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            try {
                c.checkValidity(when);
            } catch (CertificateExpiredException | CertificateNotYetValidException e) {
                throw new AttestationException(AttestationFailure.CERTIFICATE_EXPIRED, "certificate '"
                        + c.getSubjectX500Principal().getName() + "' is not valid at " + at);
            }
            X509Certificate issuer = chain.get(Math.min(i + 1, chain.size() - 1));
            try {
                c.verify(issuer.getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "certificate '"
                        + c.getSubjectX500Principal().getName() + "' is not signed by '"
                        + issuer.getSubjectX500Principal().getName() + "'");
            }
        }
        if (!ecdsaP256(chain.get(0).getPublicKey(), quote.qeReport(), quote.qeReportSignature())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the QE report is not signed by the PCK certificate's key");
        }
        byte[] expected = new byte[64];
        System.arraycopy(sha256(quote.attestationKey(), quote.qeAuthData()), 0, expected, 0, 32);
        if (!MessageDigest.isEqual(expected, quote.qeReportData())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "the QE report does not bind the "
                    + "attestation key and QE authentication data");
        }
        if (!ecdsaP256(attestationKey(quote.attestationKey()), quote.signedBytes(), quote.signature())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the quote signature does not verify with the attestation key");
        }
        Map<String, byte[]> extra = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            extra.put("rtmr" + i, quote.rtmr(i));
        }
        extra.put("mrconfigid", quote.mrConfigId());
        extra.put("mrowner", quote.mrOwner());
        extra.put("mrownerconfig", quote.mrOwnerConfig());
        Map<String, Integer> tcb = new LinkedHashMap<>();
        byte[] svn = quote.teeTcbSvn();
        for (int i = 0; i < svn.length; i++) {
            tcb.put("tee_tcb_svn_" + i, svn[i] & 0xFF);
        }
        return new AttestedClaims(TeeType.TDX, false, quote.version(), quote.mrTd(), extra, quote.reportData(),
                quote.debug(), false, tcb, Optional.empty(), Optional.empty());
    }

    private static boolean ecdsaP256(PublicKey key, byte[] data, byte[] rs) throws AttestationException {
        try {
            ASN1EncodableVector v = new ASN1EncodableVector();
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 0, 32))));
            v.add(new ASN1Integer(new BigInteger(1, Arrays.copyOfRange(rs, 32, 64))));
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(data);
            return s.verify(new DERSequence(v).getEncoded());
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "an ECDSA P-256 signature in the quote "
                    + "cannot be checked (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static PublicKey attestationKey(byte[] xy) throws AttestationException {
        try {
            AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
            p.init(new ECGenParameterSpec("secp256r1"));
            ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
            ECPoint point = new ECPoint(new BigInteger(1, Arrays.copyOfRange(xy, 0, 32)),
                    new BigInteger(1, Arrays.copyOfRange(xy, 32, 64)));
            return KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the quote's attestation key is not a P-256 point");
        }
    }

    private static List<X509Certificate> pemChain(String pem) throws AttestationException {
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.replace("\u0000", "").getBytes(StandardCharsets.US_ASCII)))) {
                out.add((X509Certificate) c);
            }
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN,
                    "the quote's PCK certificate chain is not PEM X.509");
        }
        return out;
    }

    private static byte[] sha256(byte[] a, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(a);
            md.update(b);
            return md.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
