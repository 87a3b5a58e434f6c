package io.sealstream.devstack.kafka;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The development certificate authority of the embedded broker: a fresh P-256 CA and one broker
 * certificate for {@code 127.0.0.1} and {@code localhost}, made at first start, so the dev stack
 * runs the same TLS path as a deployment. Clients trust the CA through their connection file; no
 * other party trusts it. The CA's private key is discarded once it has signed the broker
 * certificate: nothing else can ever be issued under it.
 *
 * @param caCertificatePem the CA certificate, PEM
 * @param brokerCertificatePem the broker's certificate, PEM
 * @param brokerKeyPem the broker's private key, unencrypted PKCS#8 PEM
 */
public record DevCertificateAuthority(String caCertificatePem, String brokerCertificatePem, String brokerKeyPem) {
    /** The broker certificate's subject; the broker's principal on its own mutual-TLS controller listener. */
    public static final String BROKER_SUBJECT = "CN=sealstream-dev-broker";
    private static final Duration VALIDITY = Duration.ofDays(825);

    /** A new CA and a broker certificate it issued for loopback. */
    public static DevCertificateAuthority create() {
        return create(List.of());
    }

    /**
     * A new CA and a broker certificate it issued for loopback and {@code hostNames} (the nodes'
     * names on a container network), so clients that check the name they dial accept it.
     */
    public static DevCertificateAuthority create(List<String> hostNames) {
        try {
            SecureRandom random = new SecureRandom();
            KeyPair ca = p256(random);
            KeyPair broker = p256(random);
            Instant now = Instant.now();
            Date from = Date.from(now.minus(Duration.ofMinutes(5)));
            Date until = Date.from(now.plus(VALIDITY));
            X500Name caName = new X500Name("CN=sealstream development CA (not for production)");
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509CertificateHolder caCert = new JcaX509v3CertificateBuilder(caName, serial(random), from, until, caName,
                    ca.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(ca.getPublic()))
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate()));
            X509CertificateHolder brokerCert = new JcaX509v3CertificateBuilder(caName, serial(random), from, until,
                    new X500Name(BROKER_SUBJECT), broker.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names(hostNames)))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert))
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate()));
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            return new DevCertificateAuthority(pem(converter.getCertificate(caCert)),
                    pem(converter.getCertificate(brokerCert)), pem(new JcaPKCS8Generator(broker.getPrivate(), null)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot create the development certificate authority", e);
        }
    }

    private static GeneralName[] names(List<String> hostNames) {
        List<GeneralName> names = new java.util.ArrayList<>(List.of(new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                new GeneralName(GeneralName.dNSName, "localhost")));
        hostNames.forEach(h -> names.add(new GeneralName(GeneralName.dNSName, h)));
        return names.toArray(GeneralName[]::new);
    }

    private static KeyPair p256(SecureRandom random) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), random);
        return g.generateKeyPair();
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(128, random);
    }

    private static String pem(Object o) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            if (o instanceof X509Certificate c) {
                w.writeObject(c);
            } else {
                w.writeObject((org.bouncycastle.util.io.pem.PemObjectGenerator) o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "DevCertificateAuthority[broker=" + BROKER_SUBJECT + "]";
    }
}
