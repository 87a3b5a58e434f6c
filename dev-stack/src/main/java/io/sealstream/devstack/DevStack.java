package io.sealstream.devstack;

import io.sealstream.devstack.kafka.EmbeddedKafka;
import io.sealstream.devstack.registry.SchemaRegistryServer;
import java.util.Optional;

/**
 * The embedded infrastructure of a Sealstream test or dev run: a real KRaft Kafka broker and,
 * when asked for, a real schema registry. Closing it stops both.
 */
public final class DevStack implements AutoCloseable {
    private final EmbeddedKafka kafka;
    private final SchemaRegistryServer registry;

    private DevStack(EmbeddedKafka kafka, SchemaRegistryServer registry) {
        this.kafka = kafka;
        this.registry = registry;
    }

    /** Starts a broker and, if {@code withRegistry}, a schema registry beside it. */
    public static DevStack start(boolean withRegistry) {
        EmbeddedKafka kafka = EmbeddedKafka.builder().build().start();
        try {
            return new DevStack(kafka, withRegistry ? SchemaRegistryServer.start() : null);
        } catch (RuntimeException e) {
            kafka.close();
            throw e;
        }
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    /** The registry, when the stack was started with one. */
    public Optional<SchemaRegistryServer> registry() {
        return Optional.ofNullable(registry);
    }

    /** The registry; fails with a clear message when the stack was started without one. */
    public SchemaRegistryServer requireRegistry() {
        if (registry == null) {
            throw new IllegalStateException("this dev stack was started without a schema registry; "
                    + "use @EmbeddedStack(registry = true)");
        }
        return registry;
    }

    @Override
    public void close() {
        try {
            if (registry != null) {
                registry.close();
            }
        } finally {
            kafka.close();
        }
    }

    @Override
    public String toString() {
        return "DevStack[kafka=" + kafka.bootstrapServers() + ", registry="
                + (registry == null ? "none" : registry.url()) + "]";
    }
}
