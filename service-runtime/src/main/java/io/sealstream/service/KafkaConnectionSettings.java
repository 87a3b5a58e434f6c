package io.sealstream.service;

import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.KafkaSecurity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The settings with which a service reaches Kafka as its own principal ({@code kafka.*}): the
 * bootstrap servers, the protocol, the SCRAM credentials (a file {@code sealstream workers provision}
 * writes, or a user name with a password file, as a Strimzi KafkaUser Secret is mounted) and the
 * brokers' CA. Declared once here, so the worker and the key broker name, describe and check them
 * alike; each service adds the group to its {@link SettingsSchema}.
 */
public final class KafkaConnectionSettings {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaConnectionSettings.class);
    private final String service;
    private final Setting bootstrapServers;
    private final Setting securityProtocol;
    private final Setting credentialsFile;
    private final Setting username;
    private final Setting passwordFile;
    private final Setting caFile;
    private final String credentialsWrittenBy;

    private KafkaConnectionSettings(String service, String principal, String credentialsWrittenBy, boolean required,
            String unsetMeans) {
        this.service = service;
        this.credentialsWrittenBy = credentialsWrittenBy;
        String servers = "Kafka bootstrap servers, host:port[,host:port...]";
        this.bootstrapServers = required ? Setting.required("kafka.bootstrap.servers", servers + ".")
                : Setting.optional("kafka.bootstrap.servers", servers + "; unset: " + unsetMeans + ".");
        this.securityProtocol = Setting.withDefault("kafka.security.protocol", "SASL_SSL",
                "SASL_SSL (SCRAM-SHA-512 over TLS) or PLAINTEXT (benchmark brokers only; logged as a warning).");
        this.credentialsFile = Setting.optional("kafka.credentials.file", "Owner-only file with " + principal
                + " Kafka principal and SCRAM password (" + credentialsWrittenBy
                + "); with SASL_SSL this, or kafka.username with kafka.password.file.");
        this.username = Setting.optional("kafka.username", principal.substring(0, 1).toUpperCase(java.util.Locale.ROOT)
                + principal.substring(1) + " SCRAM user, given with kafka.password.file instead of kafka.credentials.file.");
        this.passwordFile = Setting.optional("kafka.password.file",
                "File that holds only the SCRAM password of kafka.username, owner-only or on a read-only mount of the "
                        + "process's group: a Strimzi KafkaUser Secret's 'password' key mounted as it is.");
        this.caFile = Setting.optional("kafka.ca.file",
                "PEM file of the CA that signs the brokers' certificates; unset: the JVM's trust store.");
    }

    /**
     * The group for a service that cannot run without Kafka.
     *
     * @param service the service as it names itself in messages ("worker")
     * @param principal whose principal it logs in as, possessive ("the workers'")
     * @param credentialsWrittenBy which command writes its credentials file, and where
     */
    public static KafkaConnectionSettings required(String service, String principal, String credentialsWrittenBy) {
        return new KafkaConnectionSettings(service, principal, credentialsWrittenBy, true, null);
    }

    /** The group for a service that can run without Kafka; {@code unsetMeans} says what it then does without. */
    public static KafkaConnectionSettings optional(String service, String principal, String credentialsWrittenBy,
            String unsetMeans) {
        return new KafkaConnectionSettings(service, principal, credentialsWrittenBy, false, unsetMeans);
    }

    public Setting bootstrapServers() {
        return bootstrapServers;
    }

    public Setting securityProtocol() {
        return securityProtocol;
    }

    public Setting credentialsFile() {
        return credentialsFile;
    }

    public Setting username() {
        return username;
    }

    public Setting passwordFile() {
        return passwordFile;
    }

    public Setting caFile() {
        return caFile;
    }

    /** Every setting of the group, in the order docs and templates list them. */
    public List<Setting> all() {
        return List.of(bootstrapServers, securityProtocol, credentialsFile, username, passwordFile, caFile);
    }

    /** How a service reaches Kafka: where, and as whom. */
    public record KafkaConnection(String bootstrapServers, KafkaSecurity security) {
        /** Client settings for a producer, consumer or admin client: bootstrap servers and security. */
        public Map<String, Object> clientConfig() {
            Map<String, Object> c = new HashMap<>(security.clientConfig());
            c.put("bootstrap.servers", bootstrapServers);
            return c;
        }
    }

    /**
     * The connection {@code s} describes; empty when the bootstrap servers are unset (a group that is
     * not required).
     *
     * @throws SettingsException naming the setting at fault and where it came from
     */
    public Optional<KafkaConnection> read(ServiceSettings s) {
        Optional<String> servers = s.optional(bootstrapServers);
        if (servers.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new KafkaConnection(servers.get(), security(s)));
    }

    private KafkaSecurity security(ServiceSettings s) {
        if (s.choice(securityProtocol, "SASL_SSL", "PLAINTEXT").equals("PLAINTEXT")) {
            for (Setting unused : List.of(credentialsFile, username, passwordFile, caFile)) {
                if (s.optional(unused).isPresent()) {
                    throw new SettingsException(service + ": " + securityProtocol.name() + "=PLAINTEXT with " + unused.name()
                            + " set: a plaintext connection sends no credentials and trusts no CA; remove the "
                            + "credentials, or use SASL_SSL");
                }
            }
            LOG.warn("service.kafka.plaintext service=\"{}\" remedy=\"set kafka.security.protocol=SASL_SSL: PLAINTEXT "
                    + "is for benchmark brokers only\"", service);
            return KafkaSecurity.plaintext();
        }
        String ca = null;
        if (s.path(caFile).isPresent()) {
            try {
                ca = Files.readString(s.path(caFile).get());
            } catch (IOException e) {
                throw new SettingsException(service + ": cannot read " + caFile.name() + " (from " + s.source(caFile)
                        + "): " + e.getMessage() + "; give the PEM file of the CA that signs the brokers' certificates");
            }
        }
        return KafkaSecurity.scram(credentials(s), ca);
    }

    /** Either a credentials file or a user name with a password file (a mounted Strimzi Secret), never both. */
    private ClientCredentials credentials(ServiceSettings s) {
        Optional<Path> file = s.path(credentialsFile);
        Optional<String> user = s.optional(username);
        Optional<Path> password = s.path(passwordFile);
        if (file.isPresent() == (user.isPresent() || password.isPresent()) || user.isPresent() != password.isPresent()) {
            String given = file.isPresent() ? "both were given" : user.isPresent() || password.isPresent()
                    ? username.name() + " and " + passwordFile.name() + " go together" : "neither was given";
            throw new SettingsException(service + ": with " + securityProtocol.name() + "=SASL_SSL give either "
                    + credentialsFile.name() + " (" + credentialsWrittenBy + ") or " + username.name()
                    + " together with " + passwordFile.name() + " (a Strimzi KafkaUser Secret's password); " + given);
        }
        Setting from = file.isPresent() ? credentialsFile : passwordFile;
        try {
            return file.isPresent() ? ClientCredentials.read(file.get())
                    : ClientCredentials.withPasswordFile(user.get(), password.get());
        } catch (UncheckedIOException | IllegalArgumentException e) {
            throw new SettingsException(service + ": " + e.getMessage() + " (" + from.name() + " from " + s.source(from) + ")");
        }
    }
}
