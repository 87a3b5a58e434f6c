package io.sealstream.tenancy;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.SaslConfigs;

/**
 * How a Sealstream component authenticates to Kafka: {@code SASL_SSL} with SCRAM-SHA-512 as the
 * principal of its {@link ClientCredentials}, trusting either the deployment's own CA or the
 * JVM's default trust store. {@link #plaintext()} exists for benchmarks that measure what security
 * costs; a secured cluster refuses it.
 *
 * @param protocol how the connection is protected
 * @param credentials the principal; null for {@link Protocol#PLAINTEXT}
 * @param trustedCaPem the CA certificates (PEM) that sign the brokers' certificates; null for the
 *     JVM's default trust store
 */
public record KafkaSecurity(Protocol protocol, ClientCredentials credentials, String trustedCaPem) {
    /** The one SASL mechanism Sealstream uses. */
    public static final String SASL_MECHANISM = "SCRAM-SHA-512";

    /** Transport protection of Kafka connections. */
    public enum Protocol {
        /** Unauthenticated, unencrypted: benchmarks only. */
        PLAINTEXT,
        /** SCRAM-SHA-512 over TLS: what every deployment and the embedded stack use. */
        SASL_SSL
    }

    public KafkaSecurity {
        Objects.requireNonNull(protocol, "protocol");
        if (protocol == Protocol.SASL_SSL) {
            Objects.requireNonNull(credentials, "SASL_SSL needs credentials (a SCRAM user name and password)");
        } else if (credentials != null || trustedCaPem != null) {
            throw new IllegalArgumentException("a PLAINTEXT connection carries no credentials and no CA");
        }
    }

    /** SCRAM-SHA-512 over TLS as {@code credentials}, trusting {@code trustedCaPem} (null: the JVM's trust store). */
    public static KafkaSecurity scram(ClientCredentials credentials, String trustedCaPem) {
        return new KafkaSecurity(Protocol.SASL_SSL, credentials, trustedCaPem);
    }

    /** No authentication and no TLS: only for measuring the cost of security. */
    public static KafkaSecurity plaintext() {
        return new KafkaSecurity(Protocol.PLAINTEXT, null, null);
    }

    /** The principal's name, or empty for PLAINTEXT. */
    public String username() {
        return credentials == null ? "" : credentials.username();
    }

    /**
     * The Kafka client settings ({@code security.protocol}, SASL, trust store) to merge into a
     * producer, consumer, admin or Streams configuration; no bootstrap servers.
     */
    public Map<String, Object> clientConfig() {
        Map<String, Object> c = new HashMap<>();
        c.put("security.protocol", protocol.name());
        if (protocol == Protocol.SASL_SSL) {
            c.put("sasl.mechanism", SASL_MECHANISM);
            c.put(SaslConfigs.SASL_JAAS_CONFIG, jaasConfig(credentials));
            // brokers must present a certificate for the address dialled
            c.put("ssl.endpoint.identification.algorithm", "https");
            if (trustedCaPem != null) {
                c.put("ssl.truststore.type", "PEM");
                c.put("ssl.truststore.certificates", trustedCaPem);
            }
        }
        return c;
    }

    /** The {@code sasl.jaas.config} value that logs in as {@code credentials} with SCRAM. */
    static String jaasConfig(ClientCredentials credentials) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + credentials.username() + "\" password=\"" + credentials.password() + "\";";
    }

    @Override
    public String toString() {
        return "KafkaSecurity[" + protocol + (credentials == null ? "" : " as " + credentials.username())
                + (trustedCaPem == null ? "" : ", own CA") + "]";
    }
}
