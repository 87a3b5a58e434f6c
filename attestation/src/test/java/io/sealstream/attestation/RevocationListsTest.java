package io.sealstream.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** Revocation against a throw-away CA: what a revoked, forged or stale list does. */
class RevocationListsTest {
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final X500Name CA = new X500Name("CN=Test CA");

    private final KeyPair caKey = ecKey();
    private final X509Certificate ca = certificate(CA, caKey, CA, caKey, 1);
    private final X509Certificate leaf = certificate(new X500Name("CN=Leaf"), ecKey(), CA, caKey, 42);

    @Test
    void aCertificateOnItsIssuersListIsRevoked() throws Exception {
        RevocationLists lists = RevocationLists.of(List.of(crl(caKey, NOW.minus(Duration.ofDays(1)), 42)));

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> lists.check(leaf, ca, NOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.CERTIFICATE_REVOKED);
        assertThat(e.getMessage()).contains("0x2a");
    }

    @Test
    void aCertificateNotOnTheListPasses() throws Exception {
        RevocationLists lists = RevocationLists.of(List.of(crl(caKey, NOW.minus(Duration.ofDays(1)), 7)));

        lists.check(leaf, ca, NOW);

        assertThat(lists.lists()).hasSize(1);
    }

    @Test
    void aListNotSignedByTheIssuerIsRefused() throws Exception {
        RevocationLists forged = RevocationLists.of(List.of(crl(ecKey(), NOW.minus(Duration.ofDays(1)), 7)));

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> forged.check(leaf, ca, NOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.BAD_COLLATERAL);
    }

    @Test
    void aListPastItsNextUpdateIsRefused() throws Exception {
        RevocationLists stale = RevocationLists.of(List.of(crl(caKey, NOW.minus(Duration.ofDays(60)), 7)));

        AttestationException e = catchThrowableOfType(AttestationException.class, () -> stale.check(leaf, ca, NOW));

        assertThat(e.failure()).isEqualTo(AttestationFailure.COLLATERAL_EXPIRED);
    }

    @Test
    void bytesThatAreNoCrlAreBadCollateral() {
        AttestationException e = catchThrowableOfType(AttestationException.class,
                () -> RevocationLists.parse(new byte[] {1, 2, 3}));

        assertThat(e.failure()).isEqualTo(AttestationFailure.BAD_COLLATERAL);
    }

    /** A CRL from CA, issued at {@code issued} for 30 days, revoking {@code serial}. */
    private static X509CRL crl(KeyPair signer, Instant issued, long serial) throws Exception {
        X509v2CRLBuilder b = new X509v2CRLBuilder(CA, Date.from(issued));
        b.setNextUpdate(Date.from(issued.plus(Duration.ofDays(30))));
        b.addCRLEntry(BigInteger.valueOf(serial), Date.from(issued), CRLReason.keyCompromise);
        return new JcaX509CRLConverter().getCRL(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(signer.getPrivate())));
    }

    private static X509Certificate certificate(X500Name subject, KeyPair key, X500Name issuer, KeyPair issuerKey,
                                               long serial) {
        try {
            var b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(serial),
                    Date.from(NOW.minus(Duration.ofDays(365))), Date.from(NOW.plus(Duration.ofDays(365))), subject,
                    key.getPublic());
            return new JcaX509CertificateConverter().getCertificate(b.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ecKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
