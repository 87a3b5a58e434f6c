package io.sealstream.attestation.simulated;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import io.sealstream.attestation.snp.SnpReport;
import io.sealstream.attestation.snp.TcbVersion;
import io.sealstream.attestation.snp.VcekExtensions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A simulated AMD SEV-SNP TEE for the dev stack and tests: it makes real-format version-2
 * attestation reports, signed by a VCEK (EC P-384, with AMD's TCB and hwID extensions) that chains
 * to a development ASK and ARK (RSA-4096, RSASSA-PSS), generated here. Certificate names say
 * plainly that they are not AMD's. Only a verifier told to trust {@link #developmentRoot()} and a
 * policy saying {@code allow-simulated: true} accept this evidence.
 */
public final class SimulatedSnpTee {
    /** The TCB the simulated platform reports (Milan layout): bootloader 3, TEE 0, SNP 8, microcode 115. */
    public static final TcbVersion TCB = TcbVersion.milan(3, 0, 8, 115);
    private static final BouncyCastleProvider BC = new BouncyCastleProvider();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static volatile SimulatedSnpTee shared;
    private static final byte[] DEV_WORKER_MEASUREMENT = sha384("sealstream dev worker image v1");
    private static final byte[] DEV_BROKER_MEASUREMENT = sha384("sealstream dev key broker image v1");

    private final X509Certificate ark;
    private final X509Certificate ask;
    private final X509Certificate vcek;
    private final PrivateKey vcekKey;
    private final byte[] chipId;
    /** The ASK's key, to issue a VCEK for another TCB ({@link #atTcb}); null for a TEE loaded from disk. */
    private final PrivateKey askKey;
    /** The TCB this platform's VCEK is for, and its reports say. */
    private final TcbVersion tcb;

    private SimulatedSnpTee(X509Certificate ark, X509Certificate ask, X509Certificate vcek, PrivateKey vcekKey,
                            byte[] chipId, PrivateKey askKey, TcbVersion tcb) {
        this.ark = ark;
        this.ask = ask;
        this.vcek = vcek;
        this.vcekKey = vcekKey;
        this.chipId = chipId;
        this.askKey = askKey;
        this.tcb = tcb;
    }

    /** The launch measurement a simulated worker reports unless told another: the dev policy's worker image. */
    public static byte[] devWorkerMeasurement() {
        return DEV_WORKER_MEASUREMENT.clone();
    }

    /** The launch measurement the dev stack's simulated key broker reports. */
    public static byte[] devBrokerMeasurement() {
        return DEV_BROKER_MEASUREMENT.clone();
    }

    private static byte[] sha384(String label) {
        try {
            return java.security.MessageDigest.getInstance("SHA-384").digest(label.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One development chain per JVM, made on first use (RSA-4096 key generation takes seconds). */
    public static SimulatedSnpTee shared() {
        SimulatedSnpTee s = shared;
        if (s == null) {
            synchronized (SimulatedSnpTee.class) {
                s = shared;
                if (s == null) {
                    s = generate();
                    shared = s;
                }
            }
        }
        return s;
    }

    /** A new development chain and chip. */
    public static SimulatedSnpTee generate() {
        try {
            KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
            rsa.initialize(4096, RANDOM);
            KeyPair arkKeys = rsa.generateKeyPair();
            KeyPair askKeys = rsa.generateKeyPair();
            KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
            ec.initialize(new ECGenParameterSpec("secp384r1"), RANDOM);
            KeyPair vcekKeys = ec.generateKeyPair();
            byte[] chipId = new byte[64];
            RANDOM.nextBytes(chipId);

            X500Name arkName = new X500Name("CN=SEALSTREAM-DEV-ARK - simulated - not AMD,O=Sealstream development");
            X500Name askName = new X500Name("CN=SEALSTREAM-DEV-ASK - simulated - not AMD,O=Sealstream development");
            X500Name vcekName = new X500Name("CN=SEALSTREAM-DEV-VCEK - simulated - not AMD,O=Sealstream development");
            X509Certificate ark = certificate(arkName, arkName, arkKeys.getPublic(), arkKeys.getPrivate(), true, null, null);
            X509Certificate ask = certificate(askName, arkName, askKeys.getPublic(), arkKeys.getPrivate(), true, null, null);
            X509Certificate vcek = certificate(vcekName, askName, vcekKeys.getPublic(), askKeys.getPrivate(), false, chipId,
                    TCB);
            return new SimulatedSnpTee(ark, ask, vcek, vcekKeys.getPrivate(), chipId, askKeys.getPrivate(), TCB);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot generate the simulated TEE's development chain", e);
        }
    }

    /**
     * Evidence from a guest launched with {@code measurement}: debug and migration agent off, the
     * simulated TCB, {@code reportData} as given.
     */
    public Evidence attest(byte[] measurement, byte[] reportData) {
        return attest(report().measurement(measurement).reportData(reportData));
    }

    /** A report of the simulated platform's TCB for the caller to shape, then pass to {@link #attest(SnpReport.Writer)}. */
    public static SnpReport.Writer report() {
        return new SnpReport.Writer().tcb(TCB);
    }

    /**
     * The same chip and development root at another firmware level: a VCEK for {@code tcb}, whose
     * reports say {@code tcb}. For tests of TCB minimums with evidence that differs in that alone.
     *
     * @throws IllegalStateException for a TEE loaded from disk, which does not keep the ASK's key
     */
    public SimulatedSnpTee atTcb(TcbVersion tcb) {
        if (askKey == null) {
            throw new IllegalStateException("only a generated simulated TEE can issue a VCEK for another TCB");
        }
        try {
            KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
            ec.initialize(new ECGenParameterSpec("secp384r1"), RANDOM);
            KeyPair vcekKeys = ec.generateKeyPair();
            X509Certificate next = certificate(new X500Name(vcek.getSubjectX500Principal().getName()),
                    new X500Name(ask.getSubjectX500Principal().getName()), vcekKeys.getPublic(), askKey, false, chipId, tcb);
            return new SimulatedSnpTee(ark, ask, next, vcekKeys.getPrivate(), chipId, askKey, tcb);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot issue a simulated VCEK for TCB " + tcb, e);
        }
    }

    /** Evidence for a report the caller shaped (debug on, another TCB, ...); chip id and signature are added here. */
    public Evidence attest(SnpReport.Writer report) {
        report.chipId(chipId.clone());
        if (!tcb.equals(TCB)) {
            report.tcb(tcb); // a platform at another level reports its own
        }
        byte[] signed = sign(report);
        return new Evidence(TeeType.SNP, signed, certificateChain());
    }

    /** An {@link EvidenceProvider} for a guest launched with {@code measurement}. */
    public EvidenceProvider provider(byte[] measurement) {
        byte[] m = measurement.clone();
        return new EvidenceProvider() {
            @Override
            public TeeType tee() {
                return TeeType.SNP;
            }

            @Override
            public Evidence attest(byte[] reportData) throws AttestationException {
                if (reportData.length != ReportDataBinding.LENGTH) {
                    throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE,
                            "report_data must be 64 bytes, got " + reportData.length);
                }
                return SimulatedSnpTee.this.attest(m, reportData);
            }
        };
    }

    /** The development ARK: trust it only in the dev stack and in tests. */
    public X509Certificate developmentRoot() {
        return ark;
    }

    /** DER certificates VCEK, ASK, ARK. */
    public List<byte[]> certificateChain() {
        try {
            return List.of(vcek.getEncoded(), ask.getEncoded(), ark.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Saves the chain and the VCEK's private key (owner-only), so a worker in another JVM of the
     * same dev stack attests with the same development root.
     */
    public void save(Path dir) {
        if (!tcb.equals(TCB)) {
            throw new IllegalStateException("a simulated TEE at another TCB (atTcb) is for tests in one JVM; save the "
                    + "generated one");
        }
        try {
            Files.createDirectories(dir);
            Files.write(dir.resolve("ark.der"), ark.getEncoded());
            Files.write(dir.resolve("ask.der"), ask.getEncoded());
            Files.write(dir.resolve("vcek.der"), vcek.getEncoded());
            Files.write(dir.resolve("chip-id.bin"), chipId);
            Path key = dir.resolve("vcek.pk8");
            Files.write(key, vcekKey.getEncoded());
            try {
                Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not POSIX: the directory's permissions apply
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the simulated TEE to " + dir, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Loads what {@link #save} wrote. */
    public static SimulatedSnpTee load(Path dir) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            X509Certificate ark = read(cf, dir.resolve("ark.der"));
            X509Certificate ask = read(cf, dir.resolve("ask.der"));
            X509Certificate vcek = read(cf, dir.resolve("vcek.der"));
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("vcek.pk8"))));
            return new SimulatedSnpTee(ark, ask, vcek, key, Files.readAllBytes(dir.resolve("chip-id.bin")), null, TCB);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the simulated TEE from " + dir
                    + "; start the dev stack first ('sealstream up' saves it there)", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the simulated TEE in " + dir + " is unreadable", e);
        }
    }

    private byte[] sign(SnpReport.Writer report) {
        try {
            Signature ecdsa = Signature.getInstance("SHA384withECDSA");
            ecdsa.initSign(vcekKey);
            ecdsa.update(report.signedBytes());
            ASN1Sequence rs = ASN1Sequence.getInstance(ecdsa.sign());
            byte[] r = ASN1Integer.getInstance(rs.getObjectAt(0)).getValue().toByteArray();
            byte[] s = ASN1Integer.getInstance(rs.getObjectAt(1)).getValue().toByteArray();
            return report.sign(r, s);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the simulated VCEK cannot sign", e);
        }
    }

    private static X509Certificate read(CertificateFactory cf, Path file) throws IOException, GeneralSecurityException {
        return (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(file)));
    }

    private static X509Certificate certificate(X500Name subject, X500Name issuer, java.security.PublicKey key,
                                               PrivateKey signer, boolean ca, byte[] chipId, TcbVersion tcb)
            throws OperatorCreationException, IOException, GeneralSecurityException {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM),
                Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, key);
        if (ca) {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            add(b, VcekExtensions.OID_PRODUCT_NAME, new DERIA5String("Milan-B0"));
            Map<String, Integer> svn = tcb.components(false);
            add(b, VcekExtensions.OID_BOOTLOADER, new ASN1Integer(svn.get("bootloader")));
            add(b, VcekExtensions.OID_TEE, new ASN1Integer(svn.get("tee")));
            add(b, VcekExtensions.OID_SNP, new ASN1Integer(svn.get("snp")));
            add(b, VcekExtensions.OID_MICROCODE, new ASN1Integer(svn.get("microcode")));
            add(b, VcekExtensions.OID_HWID, new DEROctetString(chipId));
        }
        return new JcaX509CertificateConverter().setProvider(BC).getCertificate(
                b.build(new JcaContentSignerBuilder("SHA384withRSAandMGF1").setProvider(BC).build(signer)));
    }

    private static void add(JcaX509v3CertificateBuilder b, String oid, ASN1Encodable value) throws IOException {
        b.addExtension(new ASN1ObjectIdentifier(oid), false, value);
    }

    @Override
    public String toString() {
        return "SimulatedSnpTee[root=" + ark.getSubjectX500Principal().getName() + "]";
    }
}
