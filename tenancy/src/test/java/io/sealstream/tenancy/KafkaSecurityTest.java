package io.sealstream.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class KafkaSecurityTest {

    @Test
    void scramOverTlsSetsTheProtocolMechanismLoginAndTheOwnCa() {
        var c = KafkaSecurity.scram(new ClientCredentials("acme", "s3cret"), "-----BEGIN CERTIFICATE-----").clientConfig();

        assertThat(c).containsEntry("security.protocol", "SASL_SSL").containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.type", "PEM").containsEntry("ssl.endpoint.identification.algorithm", "https");
        assertThat((String) c.get("sasl.jaas.config")).contains("username=\"acme\"").contains("password=\"s3cret\"");
    }

    @Test
    void withoutAnOwnCaTheJvmTrustStoreIsUsed() {
        var c = KafkaSecurity.scram(new ClientCredentials("acme", "s3cret"), null).clientConfig();

        assertThat(c).doesNotContainKey("ssl.truststore.type").doesNotContainKey("ssl.truststore.certificates");
    }

    @Test
    void thePasswordNeverAppearsInToString() {
        var s = KafkaSecurity.scram(new ClientCredentials("acme", "s3cret"), null);

        assertThat(s.toString()).contains("acme").doesNotContain("s3cret");
        assertThat(s.credentials().toString()).doesNotContain("s3cret");
    }

    @Test
    void aPasswordThatCouldBreakOutOfTheLoginLineIsRefused() {
        assertThatThrownBy(() -> new ClientCredentials("acme", "x\" username=\"admin"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
