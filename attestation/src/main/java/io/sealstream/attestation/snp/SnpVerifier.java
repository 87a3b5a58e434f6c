package io.sealstream.attestation.snp;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Certificates;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.RevocationLists;
import io.sealstream.attestation.TeeType;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERSequence;

/**
 * Verifies SEV-SNP evidence: the report's ECDSA P-384 signature with the VCEK's key (AMD stores
 * r and s little-endian), the chain VCEK → ASK → ARK (RSASSA-PSS) as of the given instant, the ARK
 * pinned by its SHA-256 fingerprint, and the VCEK's TCB and hwID extensions equal to the report's
 * reported_tcb and chip_id.
 *
 * <p>Only the roots it was built with are trusted. A development root (the simulated TEE's ARK) is
 * trusted only when passed explicitly, and evidence chaining to it comes back with
 * {@code simulated = true}, which only a policy saying {@code allow-simulated: true} accepts.
 */
public final class SnpVerifier implements EvidenceVerifier {
    private final Set<String> vendorRoots;
    private final Optional<String> developmentRoot;
    private final RevocationLists crls;

    private SnpVerifier(Set<String> vendorRoots, Optional<String> developmentRoot, RevocationLists crls) {
        this.vendorRoots = Set.copyOf(vendorRoots);
        this.developmentRoot = developmentRoot;
        this.crls = crls;
    }

    /** Trusts AMD's published ARKs for Milan, Genoa and Turin ({@link AmdRoots}): the production verifier. */
    public static SnpVerifier withAmdRoots() {
        return trusting(AmdRoots.get().arks());
    }

    /** Trusts the given vendor ARKs only. */
    public static SnpVerifier trusting(List<X509Certificate> vendorArks) {
        return new SnpVerifier(fingerprints(vendorArks), Optional.empty(), RevocationLists.none());
    }

    /**
     * Trusts the given vendor ARKs and, explicitly, a development root: for the embedded dev stack
     * and tests. Its evidence is marked simulated.
     */
    public static SnpVerifier trustingDevelopmentRoot(List<X509Certificate> vendorArks, X509Certificate devRoot) {
        return new SnpVerifier(fingerprints(vendorArks), Optional.of(Certificates.fingerprint(devRoot)),
                RevocationLists.none());
    }

    /**
     * This verifier, also checking the ASK (or ASVK) against the CRLs its ARK signed and the VCEK
     * against any its ASK signed: AMD KDS publishes one CRL per product, signed by the ARK.
     */
    public SnpVerifier withRevocationLists(RevocationLists lists) {
        return new SnpVerifier(vendorRoots, developmentRoot, crls.and(lists.lists()));
    }

    @Override
    public AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException {
        if (evidence.tee() != TeeType.SNP) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "an SNP verifier got "
                    + evidence.tee().id() + " evidence");
        }
        SnpReport report = SnpReport.parse(evidence.report());
        List<X509Certificate> chain = new ArrayList<>(Certificates.parse(evidence.certificates(), "the evidence"));
        if (chain.size() == 1) {
            // evidence often carries only the VCEK/VLEK: complete it with AMD's published chain
            AmdRoots.get().issuerOf(chain.get(0)).ifPresent(c -> {
                chain.add(c.ask());
                chain.add(c.ark());
            });
        }
        if (chain.size() < 3) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "SNP evidence needs the VCEK, "
                    + "ASK and ARK certificates, leaf first; got " + chain.size());
        }
        X509Certificate vcek = chain.get(0);
        X509Certificate ask = chain.get(1);
        X509Certificate ark = chain.get(chain.size() - 1);
        String arkPrint = Certificates.fingerprint(ark);
        boolean simulated = developmentRoot.filter(arkPrint::equals).isPresent();
        if (!simulated && !vendorRoots.contains(arkPrint)) {
            throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "the chain ends in '"
                    + Certificates.name(ark) + "' (SHA-256 " + arkPrint
                    + "), which is not a pinned AMD root");
        }
        for (X509Certificate c : List.of(vcek, ask, ark)) {
            Certificates.requireValid(c, at);
        }
        verifySignedBy(ark, ark, "the ARK is not self-signed");
        verifySignedBy(ask, ark, "the ASK is not signed by the ARK");
        verifySignedBy(vcek, ask, "the VCEK is not signed by the ASK");
        crls.check(ask, ark, at);
        crls.check(vcek, ask, at);

        VcekExtensions ext = VcekExtensions.of(vcek);
        boolean turin = ext.isTurin();
        Map<String, Integer> reported = report.reportedTcb().components(turin);
        for (Map.Entry<String, Integer> e : ext.tcb().entrySet()) {
            Integer value = reported.get(e.getKey());
            if (value != null && !value.equals(e.getValue())) {
                throw new AttestationException(AttestationFailure.TCB_MISMATCH, "the signing certificate is for "
                        + e.getKey() + " SVN " + e.getValue() + " but the report's reported_tcb says " + value);
            }
        }
        if (report.signingKey() == 0 && !report.chipIdMasked() && ext.hwid().isPresent()
                && !sameChip(ext.hwid().get(), report.chipId())) {
            throw new AttestationException(AttestationFailure.TCB_MISMATCH,
                    "the VCEK's hwID is not the report's chip_id: the certificate belongs to another chip");
        }
        // after the certificate comparisons, so a changed TCB or chip id is named as such
        verifyReportSignature(report, vcek);
        return new AttestedClaims(TeeType.SNP, simulated, report.version(), report.measurement(),
                Map.of("host_data", report.hostData()), report.reportData(), report.debugAllowed(),
                report.migrationAgentAllowed(), reported, Optional.empty(), Optional.empty(),
                Map.of("vmpl", (long) report.vmpl(), "smt_allowed", report.smtAllowed() ? 1L : 0L,
                        "abi_major", (long) report.policyAbiMajor(), "abi_minor", (long) report.policyAbiMinor()));
    }

    /**
     * The VCEK's hwID names the report's chip. Turin VCEKs carry an 8-byte hwID and Turin reports
     * the same 8 bytes followed by zeros in the 64-byte chip_id.
     */
    private static boolean sameChip(byte[] hwid, byte[] chipId) {
        if (hwid.length == chipId.length) {
            return MessageDigest.isEqual(hwid, chipId);
        }
        if (hwid.length > chipId.length) {
            return false;
        }
        byte[] head = java.util.Arrays.copyOf(chipId, hwid.length);
        byte[] tail = java.util.Arrays.copyOfRange(chipId, hwid.length, chipId.length);
        return MessageDigest.isEqual(hwid, head) && MessageDigest.isEqual(tail, new byte[tail.length]);
    }

    /**
     * Checks only that {@code vcek}'s key signed {@code report}, not who certified the key: for a
     * TEE checking the report it rebuilt before sending it ({@link #verify} checks the chain).
     */
    public static void verifyReportSignature(SnpReport report, X509Certificate vcek) throws AttestationException {
        try {
            ASN1EncodableVector rs = new ASN1EncodableVector();
            rs.add(new ASN1Integer(littleEndian(report.signatureR())));
            rs.add(new ASN1Integer(littleEndian(report.signatureS())));
            Signature ecdsa = Signature.getInstance("SHA384withECDSA");
            ecdsa.initVerify(vcek.getPublicKey());
            ecdsa.update(report.signedBytes());
            if (!ecdsa.verify(new DERSequence(rs).getEncoded())) {
                throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                        "the report's signature does not verify with the VCEK's key");
            }
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the report's signature cannot be checked with the VCEK's key (" + e.getClass().getSimpleName() + ")");
        }
    }

    private static void verifySignedBy(X509Certificate cert, X509Certificate issuer, String problem)
            throws AttestationException {
        try {
            cert.verify(issuer.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, problem + " ('"
                    + Certificates.name(cert) + "')");
        }
    }

    private static BigInteger littleEndian(byte[] le) {
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        return new BigInteger(1, be);
    }

    private static Set<String> fingerprints(List<X509Certificate> certs) {
        return Set.copyOf(certs.stream().map(Certificates::fingerprint).toList());
    }
}
