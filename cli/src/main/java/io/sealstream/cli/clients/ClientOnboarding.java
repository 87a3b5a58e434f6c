package io.sealstream.cli.clients;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
import io.sealstream.tenancy.ClientCredentials;
import io.sealstream.tenancy.ClientProvisioner;
import io.sealstream.tenancy.ClientQuota;
import io.sealstream.tenancy.KafkaNames;
import java.time.Duration;

/**
 * Everything that makes a client: its Kafka principal, topics, ACLs and quota
 * ({@link ClientProvisioner}), then the envelope schemas under both topics' subjects, so workers
 * and the client find them instead of racing to register them. {@code sealstream clients add} and
 * the embedded stack ({@code up --client}, tests) both go through here.
 */
public final class ClientOnboarding {
    private ClientOnboarding() {
    }

    /** Provisions {@code clientId} and returns its new credentials. */
    public static ClientCredentials add(ClientProvisioner provisioner, String registryUrl, KafkaNames names, String clientId,
                                        ClientQuota quota) {
        ClientCredentials credentials = provisioner.addClient(clientId, quota);
        registerSchemas(registryUrl, names, clientId);
        return credentials;
    }

    /** Registers the request and response envelope schemas of {@code clientId}'s topics. */
    public static void registerSchemas(String registryUrl, KafkaNames names, String clientId) {
        SchemaRegistryClient registry = new SchemaRegistryClient(registryUrl, Duration.ofSeconds(10));
        registry.register(names.requestTopic(clientId) + "-value", EncryptedRequest.getClassSchema());
        registry.register(names.responseTopic(clientId) + "-value", EncryptedResponse.getClassSchema());
    }
}
