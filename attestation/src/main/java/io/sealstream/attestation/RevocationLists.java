package io.sealstream.attestation;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Certificate revocation lists a verifier was given (AMD KDS CRLs, Intel's PCK and Root CA CRLs).
 * A certificate is checked against the newest list its issuer signed; a list is used only after its
 * signature verifies with that issuer's key and only inside its validity window, so a forged or
 * stale list fails loudly instead of silently vouching for a revoked certificate. With no list
 * from a certificate's issuer, that certificate is not checked: revocation is checked when
 * supplied, as Intel's and AMD's verifiers do.
 */
public final class RevocationLists {
    private static final RevocationLists NONE = new RevocationLists(List.of());
    private final List<X509CRL> crls;

    private RevocationLists(List<X509CRL> crls) {
        this.crls = List.copyOf(crls);
    }

    /** No lists: nothing is checked for revocation. */
    public static RevocationLists none() {
        return NONE;
    }

    public static RevocationLists of(Collection<X509CRL> crls) {
        return crls.isEmpty() ? NONE : new RevocationLists(new ArrayList<>(crls));
    }

    /** Parses one CRL, DER or PEM. */
    public static X509CRL parse(byte[] derOrPem) throws AttestationException {
        try {
            return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(derOrPem));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new AttestationException(AttestationFailure.BAD_COLLATERAL, "a CRL of " + derOrPem.length
                    + " bytes is not DER or PEM X.509 CRL");
        }
    }

    /** These lists plus {@code more}. */
    public RevocationLists and(Collection<X509CRL> more) {
        List<X509CRL> all = new ArrayList<>(crls);
        all.addAll(more);
        return of(all);
    }

    public List<X509CRL> lists() {
        return crls;
    }

    public boolean isEmpty() {
        return crls.isEmpty();
    }

    /**
     * Checks {@code cert}, issued by {@code issuer}, against the newest list {@code issuer} signed
     * (by thisUpdate), when there is one.
     *
     * @throws AttestationException {@code certificate_revoked} if that list names it;
     *     {@code bad_collateral} if it does not verify with the issuer's key;
     *     {@code collateral_expired} if it is not valid at {@code at}
     */
    public void check(X509Certificate cert, X509Certificate issuer, Instant at) throws AttestationException {
        Optional<X509CRL> newest = newestFrom(issuer);
        if (newest.isPresent()) {
            checkAgainst(newest.get(), cert, issuer, at);
        }
    }

    /**
     * As {@link #check}, but a missing list from {@code issuer} is an error: for collateral that
     * promises revocation data for the whole chain.
     */
    public void require(X509Certificate cert, X509Certificate issuer, Instant at) throws AttestationException {
        X509CRL crl = newestFrom(issuer).orElseThrow(() -> new AttestationException(AttestationFailure.BAD_COLLATERAL,
                "no CRL from '" + EvidenceText.printable(issuer.getSubjectX500Principal().getName()) + "' was supplied, so certificate '"
                        + EvidenceText.printable(cert.getSubjectX500Principal().getName()) + "' cannot be checked for revocation; supply "
                        + "that issuer's CRL (e.g. the PCK CRL of the right CA)"));
        checkAgainst(crl, cert, issuer, at);
    }

    private Optional<X509CRL> newestFrom(X509Certificate issuer) {
        return crls.stream().filter(c -> c.getIssuerX500Principal().equals(issuer.getSubjectX500Principal()))
                .max(Comparator.comparing(X509CRL::getThisUpdate));
    }

    private static void checkAgainst(X509CRL crl, X509Certificate cert, X509Certificate issuer, Instant at)
            throws AttestationException {
        String from = "the CRL of '" + EvidenceText.printable(issuer.getSubjectX500Principal().getName()) + "'";
        try {
            crl.verify(issuer.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new AttestationException(AttestationFailure.BAD_COLLATERAL, from
                    + " does not verify with that issuer's key; supply the issuer's own current CRL");
        }
        Instant thisUpdate = crl.getThisUpdate().toInstant();
        Instant nextUpdate = crl.getNextUpdate() == null ? null : crl.getNextUpdate().toInstant();
        if (at.isBefore(thisUpdate) || (nextUpdate != null && at.isAfter(nextUpdate))) {
            throw new AttestationException(AttestationFailure.COLLATERAL_EXPIRED, from + " is valid from "
                    + thisUpdate + " to " + nextUpdate + ", not at " + at + "; fetch a current CRL");
        }
        if (crl.isRevoked(cert)) {
            throw new AttestationException(AttestationFailure.CERTIFICATE_REVOKED, "certificate '"
                    + EvidenceText.printable(cert.getSubjectX500Principal().getName()) + "' (serial 0x" + cert.getSerialNumber().toString(16)
                    + ") is revoked by " + from);
        }
    }

    @Override
    public String toString() {
        return "RevocationLists[" + crls.size() + "]";
    }

}
