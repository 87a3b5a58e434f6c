package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Certificates;
import io.sealstream.attestation.EvidenceText;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.RevocationLists;
import io.sealstream.attestation.TeeType;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Verifies an Intel TDX quote (v4, or v5 with a TDX 1.0 or 1.5 body) as of a given instant: the
 * quote signature over header and TD report body with the attestation key; the QE report signature
 * with the PCK certificate's key; the QE report data binding the attestation key and the QE
 * authentication data; the PCK chain (PCK → Platform/Processor CA → Intel SGX Root CA) to the
 * pinned root, each certificate checked against the CRLs supplied. When collateral for the
 * platform's FMSPC was supplied ({@link #withCollateral}), the TCB status is evaluated from it
 * ({@link TdxTcbEvaluation}) and lands in the claims, where the policy's accepted statuses decide;
 * without it the claims carry no TCB status, which no policy with TDX rules accepts.
 *
 * <p>Immutable; {@code with...} methods return a new verifier.
 */
public final class TdxVerifier implements EvidenceVerifier {
    /** SHA-256 fingerprint of Intel's SGX Root CA certificate, lower-case hex. */
    public static final String INTEL_SGX_ROOT_CA_FINGERPRINT =
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

    private final String trustedRoot;
    private final Map<String, TdxCollateral> collateral;
    private final RevocationLists crls;

    private TdxVerifier(String trustedRoot, Map<String, TdxCollateral> collateral, RevocationLists crls) {
        this.trustedRoot = trustedRoot;
        this.collateral = Map.copyOf(collateral);
        this.crls = crls;
    }

    /** Trusts Intel's SGX Root CA, pinned by fingerprint; no collateral, no CRLs. */
    public static TdxVerifier withIntelRoot() {
        return new TdxVerifier(INTEL_SGX_ROOT_CA_FINGERPRINT, Map.of(), RevocationLists.none());
    }

    /** This verifier, also evaluating TCB status with {@code more} (one per FMSPC; a later one replaces). */
    public TdxVerifier withCollateral(Collection<TdxCollateral> more) {
        Map<String, TdxCollateral> all = new LinkedHashMap<>(collateral);
        more.forEach(c -> all.put(c.fmspc(), c));
        return new TdxVerifier(trustedRoot, all, crls);
    }

    /** This verifier, also checking the PCK chain and collateral signers against {@code lists}. */
    public TdxVerifier withRevocationLists(RevocationLists lists) {
        return new TdxVerifier(trustedRoot, collateral, crls.and(lists.lists()));
    }

    /**
     * The outcome of a TDX verification.
     *
     * @param quote the parsed quote
     * @param claims what the quote attests, with the TCB status when collateral was used
     * @param tcb the TCB evaluation, empty when no collateral for the platform's FMSPC was supplied
     * @param fmspc the platform's FMSPC from the PCK certificate
     */
    public record Result(TdxQuote quote, AttestedClaims claims, Optional<TdxTcbEvaluation> tcb, String fmspc) { }

    @Override
    public AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException {
        return verifyDetailed(evidence, at).claims();
    }

    /** As {@link #verify}, returning the TCB evaluation as well. */
    public Result verifyDetailed(Evidence evidence, Instant at) throws AttestationException {
        if (evidence.tee() != TeeType.TDX) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "a TDX verifier got "
                    + evidence.tee().id() + " evidence");
        }
        TdxQuote quote = TdxQuote.parse(evidence.report());
        List<X509Certificate> chain = TdxCollateral.pem(quote.pckChainPem(), "quote's PCK certificate chain");
        if (chain.size() != 3) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the quote's PCK chain has "
                    + chain.size() + " certificates; expected exactly PCK, intermediate CA and Intel SGX Root CA");
        }
        checkRoles(chain);
        X509Certificate pck = chain.get(0);
        X509Certificate root = chain.get(chain.size() - 1);
        String rootPrint = Certificates.fingerprint(root);
        if (!rootPrint.equals(trustedRoot)) {
            throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "the PCK chain ends in '"
                    + Certificates.name(root) + "' (SHA-256 " + rootPrint
                    + "), not Intel's SGX Root CA");
        }
        PckExtensions pckTcb = PckExtensions.of(pck);
        Optional<TdxCollateral> platformCollateral = Optional.ofNullable(collateral.get(pckTcb.fmspc()));
        RevocationLists lists = platformCollateral.map(c -> crls.and(c.revocationLists().lists())).orElse(crls);
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            Certificates.requireValid(c, at);
            X509Certificate issuer = chain.get(Math.min(i + 1, chain.size() - 1));
            try {
                c.verify(issuer.getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "certificate '"
                        + Certificates.name(c) + "' is not signed by '"
                        + Certificates.name(issuer) + "'");
            }
            if (c != root) {
                if (platformCollateral.isPresent() && !platformCollateral.get().revocationLists().isEmpty()) {
                    lists.require(c, issuer, at); // collateral with CRLs must cover the whole chain
                } else {
                    lists.check(c, issuer, at);
                }
            }
        }
        if (!P256.verify(pck.getPublicKey(), quote.qeReport(), quote.qeReportSignature())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the QE report is not signed by the PCK certificate's key");
        }
        byte[] expected = new byte[64];
        System.arraycopy(sha256(quote.attestationKey(), quote.qeAuthData()), 0, expected, 0, 32);
        if (!MessageDigest.isEqual(expected, quote.qeReportData())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE, "the QE report does not bind the "
                    + "attestation key and QE authentication data");
        }
        if (!P256.verify(P256.publicKey(quote.attestationKey()), quote.signedBytes(), quote.signature())) {
            throw new AttestationException(AttestationFailure.BAD_SIGNATURE,
                    "the quote signature does not verify with the attestation key");
        }
        Optional<TdxTcbEvaluation> tcb = Optional.empty();
        if (platformCollateral.isPresent()) {
            tcb = Optional.of(TcbEvaluator.evaluate(quote, pck, root, platformCollateral.get(), lists, at));
        }
        return new Result(quote, claims(quote, tcb), tcb, pckTcb.fmspc());
    }

    /**
     * The chain's shape, not only its signatures: a CA intermediate that is Intel's PCK Platform or
     * Processor CA, and a leaf that is no CA. Otherwise a holder of one PCK key could append a leaf
     * of their own making under it and claim any platform TCB.
     */
    private static void checkRoles(List<X509Certificate> chain) throws AttestationException {
        X509Certificate leaf = chain.get(0);
        X509Certificate ca = chain.get(1);
        String caName = Certificates.commonName(ca);
        boolean[] caUsage = ca.getKeyUsage();
        if (ca.getBasicConstraints() < 0 || caUsage == null || caUsage.length < 6 || !caUsage[5]
                || !(caName.equals("Intel SGX PCK Platform CA") || caName.equals("Intel SGX PCK Processor CA"))) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the PCK chain's intermediate '"
                    + EvidenceText.printable(caName) + "' is not Intel's PCK Platform or Processor CA with certificate signing rights");
        }
        if (leaf.getBasicConstraints() >= 0 || !Certificates.commonName(leaf).equals("Intel SGX PCK Certificate")) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the PCK chain's leaf '"
                    + EvidenceText.printable(Certificates.commonName(leaf)) + "' is not an Intel SGX PCK Certificate (or is a CA)");
        }
    }

    private static AttestedClaims claims(TdxQuote quote, Optional<TdxTcbEvaluation> tcb) {
        Map<String, byte[]> extra = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            extra.put("rtmr" + i, quote.rtmr(i));
        }
        extra.put("mrconfigid", quote.mrConfigId());
        extra.put("mrowner", quote.mrOwner());
        extra.put("mrownerconfig", quote.mrOwnerConfig());
        quote.mrServiceTd().ifPresent(m -> extra.put("mrservicetd", m));
        Map<String, Integer> svns = new LinkedHashMap<>();
        byte[] svn = quote.teeTcbSvn();
        for (int i = 0; i < svn.length; i++) {
            svns.put("tee_tcb_svn_" + i, svn[i] & 0xFF);
        }
        return new AttestedClaims(TeeType.TDX, false, quote.version(), quote.mrTd(), extra, quote.reportData(),
                quote.debug(), false, svns, tcb.map(t -> t.status().id()), Optional.empty(),
                Map.of("td_attributes", java.nio.ByteBuffer.wrap(quote.tdAttributes()).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getLong()));
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
}
