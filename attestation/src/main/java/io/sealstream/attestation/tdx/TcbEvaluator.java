package io.sealstream.attestation.tdx;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.EvidenceText;
import io.sealstream.attestation.RevocationLists;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Intel's TDX TCB evaluation of a verified quote against its collateral: the collateral's own
 * signatures, chains and validity windows first; then the quote's platform (PCK certificate TCB
 * and the TD's TEE_TCB_SVN) against the TCB levels, the TDX module against its identity, and the
 * Quoting Enclave against the QE Identity; the three statuses converge into one.
 */
final class TcbEvaluator {
    private TcbEvaluator() {
    }

    static TdxTcbEvaluation evaluate(TdxQuote quote, X509Certificate pck, X509Certificate root, TdxCollateral c,
                                     RevocationLists crls, Instant at) throws AttestationException {
        verifyDocument("TCB Info", c.tcbInfoJson(), c.tcbInfoSignature(), c.tcbInfoChain(), root, crls, at);
        verifyDocument("QE Identity", c.qeIdentityJson(), c.qeIdentitySignature(), c.qeIdentityChain(), root, crls, at);
        TcbInfo info = c.tcbInfo();
        QeIdentity qe = c.qeIdentity();
        inWindow("TCB Info", info.issueDate(), info.nextUpdate(), at);
        inWindow("QE Identity", qe.issueDate(), qe.nextUpdate(), at);

        PckExtensions pckTcb = PckExtensions.of(pck);
        if (!pckTcb.fmspc().equals(info.fmspc()) || !pckTcb.pceId().equals(info.pceId())) {
            throw mismatch("the TCB Info is for FMSPC " + info.fmspc() + " / PCE id " + info.pceId()
                    + ", the PCK certificate says " + pckTcb.fmspc() + " / " + pckTcb.pceId()
                    + "; supply the collateral for this platform's FMSPC");
        }
        PlatformTcb platform = platform(quote, pckTcb, info);
        Set<String> advisories = new LinkedHashSet<>(platform.advisoryIds());
        checkQuotingEnclave(qe, quote);
        TcbInfo.IsvLevel qeLevel = qe.levels().stream().filter(l -> l.isvSvn() <= quote.qeIsvSvn()).findFirst()
                .orElseThrow(() -> unsupported("Quoting Enclave ISV SVN " + quote.qeIsvSvn()
                        + " is below every level of the QE Identity"));
        advisories.addAll(qeLevel.advisoryIds());

        TcbStatus status = platform.level().status();
        if (platform.moduleStatus().isPresent()) {
            status = status.converge(platform.moduleStatus().get());
        }
        status = status.converge(qeLevel.status());
        return new TdxTcbEvaluation(status, platform.level().status(), platform.moduleStatus(), qeLevel.status(),
                platform.level().tcbDate(), List.copyOf(advisories), info.fmspc(), info.evaluationDataNumber());
    }

    /**
     * The platform's TCB level and, for a TDX module of major version 1 or more, the module's own
     * status.
     *
     * @param level the first (newest) level the platform meets
     * @param moduleStatus the TDX module identity's status, if the module has one
     * @param advisoryIds the advisories of both matched levels
     */
    record PlatformTcb(TcbInfo.Level level, Optional<TcbStatus> moduleStatus, List<String> advisoryIds) { }

    /** Matches the platform (PCK TCB, TEE_TCB_SVN) and its TDX module against {@code info}. */
    static PlatformTcb platform(TdxQuote quote, PckExtensions pckTcb, TcbInfo info) throws AttestationException {
        checkModule("the TDX module", info.tdxModule(), quote);
        byte[] teeSvn = quote.teeTcbSvn();
        int moduleSvn = teeSvn[0] & 0xFF;
        int moduleMajor = teeSvn[1] & 0xFF;
        Set<String> advisories = new LinkedHashSet<>();
        Optional<TcbStatus> moduleStatus = Optional.empty();
        if (moduleMajor > 0) {
            // a TDX 1.5+ module: its own identity carries its status, and the platform levels'
            // first two TDX components (the module's SVN and version) are not compared
            TcbInfo.ModuleIdentity identity = info.moduleIdentity(moduleMajor).orElseThrow(() -> unsupported(
                    "the TCB Info lists no TDX module identity for major version " + moduleMajor));
            checkModule("the TDX module " + identity.id(), identity, quote);
            TcbInfo.IsvLevel level = identity.levels().stream().filter(l -> l.isvSvn() <= moduleSvn).findFirst()
                    .orElseThrow(() -> unsupported("TDX module " + identity.id() + " SVN " + moduleSvn
                            + " is below every level of its identity"));
            moduleStatus = Optional.of(level.status());
            advisories.addAll(level.advisoryIds());
        }
        int firstTdx = moduleMajor > 0 ? 2 : 0;
        TcbInfo.Level level = info.levels().stream()
                .filter(l -> atLeast(pckTcb.sgxTcbComponents(), l.sgx(), 0) && pckTcb.pceSvn() >= l.pceSvn()
                        && atLeast(unsigned(teeSvn), l.tdx(), firstTdx))
                .findFirst()
                .orElseThrow(() -> unsupported("the platform's TCB (SGX SVNs " + Arrays.toString(pckTcb.sgxTcbComponents())
                        + ", PCE SVN " + pckTcb.pceSvn() + ", TEE_TCB_SVN " + Arrays.toString(unsigned(teeSvn))
                        + ") is below every TCB level of FMSPC " + info.fmspc() + "; update the platform's firmware"));
        advisories.addAll(level.advisoryIds());
        return new PlatformTcb(level, moduleStatus, List.copyOf(advisories));
    }

    private static void verifyDocument(String what, String json, byte[] signature, List<X509Certificate> chain,
                                       X509Certificate root, RevocationLists crls, Instant at)
            throws AttestationException {
        X509Certificate signer = chain.get(0);
        X509Certificate chainRoot = chain.get(chain.size() - 1);
        if (chain.size() > 1 && !Arrays.equals(encoded(chainRoot), encoded(root))) {
            throw new AttestationException(AttestationFailure.UNKNOWN_ROOT, "the " + what + " issuer chain ends in '"
                    + EvidenceText.printable(chainRoot.getSubjectX500Principal().getName()) + "', not the pinned Intel SGX Root CA");
        }
        try {
            signer.verify(root.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_CERTIFICATE_CHAIN, "the " + what + " signer '"
                    + EvidenceText.printable(signer.getSubjectX500Principal().getName()) + "' is not signed by Intel's SGX Root CA");
        }
        try {
            signer.checkValidity(Date.from(at));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw new AttestationException(AttestationFailure.CERTIFICATE_EXPIRED, "the " + what + " signer '"
                    + EvidenceText.printable(signer.getSubjectX500Principal().getName()) + "' is not valid at " + at
                    + "; use its re-issued certificate (same key) from current collateral");
        }
        if (crls.isEmpty()) {
            crls.check(signer, root, at);
        } else {
            crls.require(signer, root, at); // the Root CA CRL must come with CRL-bearing collateral
        }
        if (!P256.verify(signer.getPublicKey(), json.getBytes(StandardCharsets.UTF_8), signature)) {
            throw new AttestationException(AttestationFailure.BAD_COLLATERAL, "the " + what + " signature does not "
                    + "verify with '" + EvidenceText.printable(signer.getSubjectX500Principal().getName()) + "': the document was changed "
                    + "or is not byte for byte as Intel served it");
        }
    }

    private static void inWindow(String what, Instant issued, Instant nextUpdate, Instant at)
            throws AttestationException {
        if (at.isBefore(issued) || at.isAfter(nextUpdate)) {
            throw new AttestationException(AttestationFailure.COLLATERAL_EXPIRED, "the " + what + " is valid from "
                    + issued + " to " + nextUpdate + ", not at " + at + "; fetch current collateral from Intel PCS");
        }
    }

    private static void checkModule(String what, TcbInfo.ModuleIdentity id, TdxQuote quote)
            throws AttestationException {
        if (!Arrays.equals(id.mrSigner(), quote.mrSignerSeam())) {
            throw mismatch(what + " is signed by MRSIGNERSEAM " + java.util.HexFormat.of().formatHex(quote.mrSignerSeam())
                    + ", not the signer the TCB Info names");
        }
        if (!maskedEqual(quote.seamAttributes(), id.attributes(), id.attributesMask())) {
            throw mismatch(what + " runs with SEAM attributes the TCB Info does not allow");
        }
    }

    private static void checkQuotingEnclave(QeIdentity qe, TdxQuote quote) throws AttestationException {
        if (!MessageDigest.isEqual(qe.mrSigner(), quote.qeMrSigner()) || qe.isvProdId() != quote.qeIsvProdId()
                || (quote.qeMiscSelect() & qe.miscSelectMask()) != (qe.miscSelect() & qe.miscSelectMask())
                || !maskedEqual(quote.qeAttributes(), qe.attributes(), qe.attributesMask())) {
            throw mismatch("the Quoting Enclave (ISV prod id " + quote.qeIsvProdId()
                    + ") is not the one Intel's QE Identity describes (signer, product id, MISCSELECT or ATTRIBUTES)");
        }
    }

    private static boolean atLeast(int[] actual, int[] level, int from) {
        for (int i = from; i < level.length; i++) {
            if (actual[i] < level[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean maskedEqual(byte[] actual, byte[] expected, byte[] mask) {
        for (int i = 0; i < mask.length; i++) {
            if ((actual[i] & mask[i]) != (expected[i] & mask[i])) {
                return false;
            }
        }
        return true;
    }

    private static int[] unsigned(byte[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] & 0xFF;
        }
        return out;
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static AttestationException mismatch(String what) {
        return new AttestationException(AttestationFailure.TCB_MISMATCH, what);
    }

    private static AttestationException unsupported(String what) {
        return new AttestationException(AttestationFailure.TCB_LEVEL_UNSUPPORTED, what);
    }
}
