package io.sealstream.devstack.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;

/**
 * What a secured embedded broker must find again after a restart from the same data directory:
 * its development CA and the passwords of its two bootstrap principals. Kept owner-only beside
 * the Kafka data, which the threat model already gives to the host: these secrets guard the
 * development broker's tenancy, never request contents.
 */
record DevSecrets(DevCertificateAuthority ca, String adminPassword, String brokerPassword) {
    private static final String CA = "ca.certificate";
    private static final String BROKER_CERT = "broker.certificate";
    private static final String BROKER_KEY = "broker.key";
    private static final String ADMIN = "admin.password";
    private static final String BROKER = "broker.password";

    /** New secrets whose broker certificate also names {@code hostNames}; kept nowhere. */
    static DevSecrets create(java.util.List<String> hostNames) {
        return new DevSecrets(DevCertificateAuthority.create(hostNames), password(), password());
    }

    static DevSecrets loadOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                return new DevSecrets(new DevCertificateAuthority(p.getProperty(CA), p.getProperty(BROKER_CERT),
                        p.getProperty(BROKER_KEY)), p.getProperty(ADMIN), p.getProperty(BROKER));
            }
            DevSecrets s = new DevSecrets(DevCertificateAuthority.create(), password(), password());
            Properties p = new Properties();
            p.setProperty(CA, s.ca.caCertificatePem());
            p.setProperty(BROKER_CERT, s.ca.brokerCertificatePem());
            p.setProperty(BROKER_KEY, s.ca.brokerKeyPem());
            p.setProperty(ADMIN, s.adminPassword);
            p.setProperty(BROKER, s.brokerPassword);
            Files.createDirectories(file.getParent());
            KafkaClusterFiles.storeOwnerOnly(file, p, "development broker CA and bootstrap passwords; owner-only");
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot keep the development broker's CA and passwords in " + file
                    + "; check that the directory is writable", e);
        }
    }

    /** 256 random bits in hex: SCRAM passwords travel in the formatter's bracketed syntax, so no punctuation. */
    private static String password() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    @Override
    public String toString() {
        return "DevSecrets[redacted]";
    }
}
