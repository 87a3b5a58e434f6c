package io.sealstream.attestation.azure;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.AttestedClaims;
import io.sealstream.attestation.Certificates;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceText;
import io.sealstream.attestation.EvidenceVerifier;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.snp.SnpVerifier;
import io.sealstream.attestation.tdx.TdxQuote;
import io.sealstream.attestation.tdx.TdxVerifier;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;

/**
 * Verifies the evidence of an Azure confidential VM ({@link AzureEvidence}), in this order:
 * <ol>
 *   <li>the hardware report with the bare verifier: the SNP report inside the HCL report with
 *       {@link SnpVerifier} (VCEK chain to AMD), or the TD quote with {@link TdxVerifier} (PCK chain
 *       to Intel, collateral) and the quote's body equal to the HCL report's TDREPORT;</li>
 *   <li>the runtime claims bound by that report's report_data ({@link HclReport#checkClaimsBound});</li>
 *   <li>the vTPM quote signed by the attestation key the claims name, its qualifying data the first
 *       32 bytes of the claims' user-data, and the PCR values hashing to its digest;</li>
 *   <li>when Azure's vTPM roots were given ({@link #withAttestationKeyRoots}), the attestation key's
 *       certificate chain up to one of them, its key the claims' key.</li>
 * </ol>
 * The claims are the hardware's, with the tee {@code azure-snp} or {@code azure-tdx}, the quoted
 * PCRs as {@code pcr0}..{@code pcr23}, and the claims' user-data as report_data: a guest cannot
 * choose report_data on Azure (the paravisor fills it), so it writes its binding to user-data
 * before the report is regenerated, and the vTPM quote over the PCRs carries it too, which makes the
 * PCR values as fresh as the binding.
 *
 * <p>Immutable; {@code with...} methods return a new verifier.
 */
public final class AzureVerifier implements EvidenceVerifier {
    private static final int MAX_CHAIN = 5;
    // TDREPORT offsets (TDX module ABI: REPORTMACSTRUCT, TEE_TCB_INFO at 256, TDINFO at 512)
    private static final int TR_REPORT_DATA = 128;
    private static final int TR_TEE_TCB_SVN = 264;
    private static final int TR_MRSEAM = 280;
    private static final int TR_TD_ATTRIBUTES = 512;
    private static final int TR_XFAM = 520;
    private static final int TR_MRTD = 528;
    private static final int TR_MRCONFIGID = 576;
    private static final int TR_MROWNER = 624;
    private static final int TR_MROWNERCONFIG = 672;
    private static final int TR_RTMR0 = 720;

    private final SnpVerifier snp;
    private final TdxVerifier tdx;
    private final List<X509Certificate> akRoots;
    private final List<X509Certificate> akIntermediates;

    private AzureVerifier(SnpVerifier snp, TdxVerifier tdx, List<X509Certificate> akRoots,
                          List<X509Certificate> akIntermediates) {
        this.snp = snp;
        this.tdx = tdx;
        this.akRoots = List.copyOf(akRoots);
        this.akIntermediates = List.copyOf(akIntermediates);
    }

    /**
     * Verifies the hardware reports with these verifiers (their roots, CRLs and collateral); the
     * attestation key is trusted through the hardware-bound runtime claims alone.
     */
    public static AzureVerifier of(SnpVerifier snp, TdxVerifier tdx) {
        return new AzureVerifier(snp, tdx, List.of(), List.of());
    }

    /**
     * This verifier, also requiring the attestation key's certificate to chain to one of
     * {@code roots} (Azure's "Virtual TPM Root Certificate Authority 2023"), through the
     * intermediates the evidence carries or {@code intermediates} (for certificates whose issuer the
     * VM does not ship, such as "Global Virtual TPM CA - 03"). Evidence without the certificate is
     * then refused.
     */
    public AzureVerifier withAttestationKeyRoots(Collection<X509Certificate> roots, Collection<X509Certificate> intermediates) {
        if (roots.isEmpty()) {
            throw new IllegalArgumentException("at least one Azure vTPM root certificate");
        }
        return new AzureVerifier(snp, tdx, new ArrayList<>(roots), new ArrayList<>(intermediates));
    }

    /**
     * The outcome of a verification.
     *
     * @param claims what the evidence attests
     * @param runtimeClaims the hardware-bound runtime claims
     * @param pcrs the quoted PCR values by index
     * @param tdx the TD quote's verification, for TDX
     */
    public record Result(AttestedClaims claims, RuntimeClaims runtimeClaims, SortedMap<Integer, byte[]> pcrs,
                         Optional<TdxVerifier.Result> tdx) { }

    @Override
    public AttestedClaims verify(Evidence evidence, Instant at) throws AttestationException {
        return verifyDetailed(evidence, at).claims();
    }

    /** As {@link #verify}, returning the runtime claims, PCRs and TDX evaluation as well. */
    public Result verifyDetailed(Evidence evidence, Instant at) throws AttestationException {
        AzureEvidence parts = AzureEvidence.parse(evidence);
        HclReport hcl = HclReport.parse(parts.hclReport());
        boolean snpEvidence = evidence.tee() == TeeType.AZURE_SNP;
        if (hcl.snp() != snpEvidence) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, evidence.tee().id() + " evidence holds an "
                    + "HCL report of type " + (hcl.snp() ? "SEV-SNP" : "TDX"));
        }
        AttestedClaims hardware;
        Optional<TdxVerifier.Result> tdxResult = Optional.empty();
        if (snpEvidence) {
            hardware = snp.verify(new Evidence(TeeType.SNP, hcl.hardwareReport(), evidence.certificates()), at);
        } else {
            TdxVerifier.Result r = tdx.verifyDetailed(new Evidence(TeeType.TDX, parts.tdQuote().orElseThrow(), List.of()), at);
            checkQuoteCarriesTdReport(r.quote(), hcl.hardwareReport());
            hardware = r.claims();
            tdxResult = Optional.of(r);
        }
        hcl.checkClaimsBound();
        RuntimeClaims runtime = RuntimeClaims.parse(hcl.runtimeClaims());
        byte[] userData = runtime.userData().orElseThrow(() -> new AttestationException(AttestationFailure.VTPM_MISMATCH,
                "the runtime claims carry no user-data, so nothing binds a nonce or key to this VM's evidence; "
                        + "update the VM to a paravisor that reports user-data"));
        TpmQuote quote = TpmQuote.parse(parts.tpmQuote());
        quote.verifySignature(runtime.attestationKey(), parts.tpmSignature());
        if (!MessageDigest.isEqual(quote.qualifyingData(), Arrays.copyOf(userData, 32))) {
            throw new AttestationException(AttestationFailure.VTPM_MISMATCH, "the vTPM quote's qualifying data is not the "
                    + "first 32 bytes of the runtime claims' user-data: the PCR values are not from this attestation; "
                    + "quote with the user-data written before the report");
        }
        SortedMap<Integer, byte[]> pcrs = quote.checkPcrs(parts.pcrs());
        if (!akRoots.isEmpty()) {
            checkAttestationKeyChain(parts.akCertificates(), runtime.attestationKey(), at);
        }
        Map<String, byte[]> extra = new LinkedHashMap<>(hardware.extraMeasurements());
        pcrs.forEach((i, v) -> extra.put("pcr" + i, v));
        Map<String, Long> properties = new LinkedHashMap<>(hardware.properties());
        runtime.vmConfiguration().forEach((k, v) -> properties.put("vm_" + k.replace('-', '_'), v ? 1L : 0L));
        AttestedClaims claims = new AttestedClaims(evidence.tee(), hardware.simulated(), hardware.reportVersion(),
                hardware.measurement(), Map.copyOf(extra), userData, hardware.debug(), hardware.migrationAgent(),
                hardware.tcb(), hardware.tcbStatus(), hardware.signedAt(), Map.copyOf(properties));
        return new Result(claims, runtime, pcrs, tdxResult);
    }

    /** The TD quote must be made from the HCL report's TDREPORT: the fields the quote signs are the same. */
    private static void checkQuoteCarriesTdReport(TdxQuote quote, byte[] tdReport) throws AttestationException {
        List<Field> fields = new ArrayList<>(List.of(
                new Field("report_data", quote.reportData(), TR_REPORT_DATA),
                new Field("tee_tcb_svn", quote.teeTcbSvn(), TR_TEE_TCB_SVN),
                new Field("mrseam", quote.mrSeam(), TR_MRSEAM),
                new Field("td_attributes", quote.tdAttributes(), TR_TD_ATTRIBUTES),
                new Field("xfam", quote.xfam(), TR_XFAM),
                new Field("mrtd", quote.mrTd(), TR_MRTD),
                new Field("mrconfigid", quote.mrConfigId(), TR_MRCONFIGID),
                new Field("mrowner", quote.mrOwner(), TR_MROWNER),
                new Field("mrownerconfig", quote.mrOwnerConfig(), TR_MROWNERCONFIG)));
        for (int i = 0; i < 4; i++) {
            fields.add(new Field("rtmr" + i, quote.rtmr(i), TR_RTMR0 + 48 * i));
        }
        for (Field f : fields) {
            if (!MessageDigest.isEqual(f.inQuote(), Arrays.copyOfRange(tdReport, f.offset(), f.offset() + f.inQuote().length))) {
                throw new AttestationException(AttestationFailure.RUNTIME_CLAIMS_UNBOUND, "the TD quote's " + f.name()
                        + " differs from the HCL report's TDREPORT: the quote was not made from this report; ask for both again");
            }
        }
    }

    /** A field the TD quote signs, and where the TDREPORT holds it. */
    private record Field(String name, byte[] inQuote, int offset) { }

    private void checkAttestationKeyChain(List<byte[]> der, RSAPublicKey attestationKey, Instant at)
            throws AttestationException {
        if (der.isEmpty()) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the evidence carries no certificate "
                    + "for the vTPM attestation key and this verifier requires one; read NV index 0x01C101D0");
        }
        // the NV index pads the certificate with zeros, which reading DER ignores
        List<X509Certificate> given = Certificates.parse(der, "the attestation key's chain");
        X509Certificate leaf = given.get(0);
        if (!(leaf.getPublicKey() instanceof RSAPublicKey key) || !key.getModulus().equals(attestationKey.getModulus())
                || !key.getPublicExponent().equals(attestationKey.getPublicExponent())) {
            throw new AttestationException(AttestationFailure.VTPM_MISMATCH, "the attestation key certificate is for "
                    + "another key than the runtime claims' HCLAkPub");
        }
        List<X509Certificate> pool = new ArrayList<>(given.subList(1, given.size()));
        pool.addAll(akIntermediates);
        X509Certificate current = leaf;
        for (int depth = 0; depth < MAX_CHAIN; depth++) {
            Certificates.requireValid(current, at);
            for (X509Certificate root : akRoots) {
                if (signedBy(current, root)) {
                    Certificates.requireValid(root, at);
                    return;
                }
            }
            X509Certificate issuer = null;
            for (X509Certificate c : pool) {
                if (signedBy(current, c)) {
                    issuer = c;
                    break;
                }
            }
            if (issuer == null) {
                throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "certificate '"
                        + Certificates.name(current) + "' is issued by '"
                        + EvidenceText.printable(current.getIssuerX500Principal().getName()) + "', which neither the evidence nor the configured "
                        + "Azure vTPM roots and intermediates hold");
            }
            current = issuer;
        }
        throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the attestation key's chain is longer "
                + "than " + MAX_CHAIN + " certificates");
    }

    /** {@code issuer} is a CA allowed to sign certificates, named as {@code cert}'s issuer, and its signature holds. */
    private static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
        if (!Certificates.mayIssue(issuer, cert)) {
            return false;
        }
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
