package io.sealstream.tenancy;

import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.schemas.v1.EncryptedRequest;
import io.sealstream.schemas.v1.EncryptedResponse;
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

    /**
     * Provisions the client whose principal is {@code credentials}' user: schemas first, then the
     * Kafka side with the credential last, so a failure anywhere leaves no principal that can log in.
     */
    public static void add(ClientProvisioner provisioner, String registryUrl, KafkaNames names, ClientCredentials credentials,
                           ClientQuota quota, boolean reuseTopics) {
        registerSchemas(registryUrl, names, credentials.username());
        provisioner.addClient(credentials, quota, reuseTopics);
    }

    /** Registers the request and response envelope schemas of {@code clientId}'s topics. */
    public static void registerSchemas(String registryUrl, KafkaNames names, String clientId) {
        SchemaRegistryClient registry = new SchemaRegistryClient(registryUrl, Duration.ofSeconds(10));
        for (String topic : names.requestTopics(clientId)) {
            registry.register(topic + "-value", EncryptedRequest.getClassSchema());
        }
        registry.register(names.responseTopic(clientId) + "-value", EncryptedResponse.getClassSchema());
    }
}
