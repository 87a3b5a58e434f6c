package io.sealstream.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sealstream.devstack.LoopbackPorts;
import io.sealstream.devstack.junit.EmbeddedStack;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import io.sealstream.schemas.v1.EncryptedRequest;
import java.time.Duration;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The REST client against a real Confluent-compatible registry. */
@EmbeddedStack
class SchemaRegistryClientTest {
    private static SchemaRegistryClient client;

    @BeforeAll
    static void connect(SchemaRegistryServer registry) {
        client = new SchemaRegistryClient(registry.url(), Duration.ofSeconds(10));
    }

    @Test
    void aRegisteredSchemaIsFetchedBackById() {
        int id = client.register("client-test.byid-value", EncryptedRequest.getClassSchema());

        Schema fetched = new SchemaRegistryClient(client.baseUrl(), Duration.ofSeconds(10)).schemaById(id);

        assertThat(fetched).isEqualTo(EncryptedRequest.getClassSchema());
    }

    @Test
    void registeringTheSameSchemaAgainKeepsItsId() {
        int first = client.register("client-test.again-value", EncryptedRequest.getClassSchema());
        int second = new SchemaRegistryClient(client.baseUrl(), Duration.ofSeconds(10))
                .register("client-test.again-value", EncryptedRequest.getClassSchema());

        assertThat(second).isEqualTo(first);
    }

    @Test
    void subjectVersionsAreListedOldestFirst() {
        client.register("client-test.versions-value", record("v", false));
        client.register("client-test.versions-value", record("v", true));

        assertThat(client.versions("client-test.versions-value")).containsExactly(1, 2);
        assertThat(client.version("client-test.versions-value", "latest").schema()).isEqualTo(record("v", true));
        assertThat(client.subjects()).contains("client-test.versions-value");
    }

    @Test
    void lookupFindsARegisteredSchemaWithoutRegisteringIt() {
        int id = client.register("client-test.lookup-value", record("l", false));

        RegisteredSchema found = client.lookup("client-test.lookup-value", record("l", false));

        assertThat(found.id()).isEqualTo(id);
        assertThat(found.version()).isEqualTo(1);
    }

    @Test
    void lookupOfAnUnknownSubjectIsNotFound() {
        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class,
                () -> client.lookup("client-test.absent-value", record("a", false)));

        assertThat(e.isNotFound()).isTrue();
        assertThat(e.errorCode()).isIn(40401, 40403);
        assertThat(e).hasMessageContaining("client-test.absent-value").hasMessageContaining("register the schema first");
    }

    @Test
    void anUnknownIdIsNotFound() {
        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class, () -> client.schemaById(987654));

        assertThat(e.httpStatus()).isEqualTo(404);
        assertThat(e).hasMessageContaining("schema id 987654");
    }

    @Test
    void anIncompatibleSchemaIsRefusedWithConflict() {
        client.register("client-test.compat-value", record("c", false));
        client.setCompatibility("client-test.compat-value", "BACKWARD");
        Schema breaking = SchemaBuilder.record("c").namespace("test").fields().requiredInt("a").endRecord();

        SchemaRegistryException e = catchThrowableOfType(SchemaRegistryException.class,
                () -> client.register("client-test.compat-value", breaking));

        assertThat(e.httpStatus()).isEqualTo(409);
        assertThat(e).hasMessageContaining("incompatible");
    }

    @Test
    void anUnreachableRegistryIsReportedAsUnavailable() {
        SchemaRegistryClient nowhere = new SchemaRegistryClient(
                "http://127.0.0.1:" + LoopbackPorts.free() + "/apis/ccompat/v7", Duration.ofSeconds(2));

        SchemaRegistryUnavailableException e = catchThrowableOfType(SchemaRegistryUnavailableException.class,
                () -> nowhere.schemaById(1));

        assertThat(e).hasMessageContaining("unreachable").hasMessageContaining("schema.registry.url");
        assertThat(e.httpStatus()).isEqualTo(SchemaRegistryException.NO_STATUS);
    }

    /** A record schema with a string field, and optionally a second field with a default. */
    private static Schema record(String name, boolean withDefaultedField) {
        var fields = SchemaBuilder.record(name).namespace("test").fields().requiredString("a");
        if (withDefaultedField) {
            fields = fields.name("b").type().intType().intDefault(0);
        }
        return fields.endRecord();
    }
}
