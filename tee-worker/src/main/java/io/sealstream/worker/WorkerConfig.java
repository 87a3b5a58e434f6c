package io.sealstream.worker;

import io.sealstream.streams.StreamProcessorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a TEE worker, with defaults in one place. The stream processing settings are a
 * {@link StreamProcessorConfig}; this adds what the worker itself needs.
 */
public final class WorkerConfig {
    /** How often the worker re-attests and re-fetches its keys (rotation, lease renewal). */
    public static final Duration DEFAULT_KEY_REFRESH = Duration.ofMinutes(1);
    /** Default health endpoint port: 0 picks a free one. */
    public static final int DEFAULT_HEALTH_PORT = 0;
    /** Health endpoints listen on loopback unless told otherwise. */
    public static final String DEFAULT_HEALTH_ADDRESS = "127.0.0.1";

    private final String workerId;
    private final String keyBrokerUrl;
    private final String schemaRegistryUrl;
    private final StreamProcessorConfig streams;
    private final Duration keyRefresh;
    private final Duration brokerTimeout;
    private final int healthPort;
    private final String healthAddress;
    private final Path workDir;

    private WorkerConfig(Builder b) {
        this.workerId = b.workerId;
        this.keyBrokerUrl = b.keyBrokerUrl;
        this.schemaRegistryUrl = b.schemaRegistryUrl;
        this.streams = b.streams;
        this.keyRefresh = b.keyRefresh;
        this.brokerTimeout = b.brokerTimeout;
        this.healthPort = b.healthPort;
        this.healthAddress = b.healthAddress;
        this.workDir = b.workDir;
    }

    public static Builder builder() {
        return new Builder();
    }

    public String workerId() {
        return workerId;
    }

    public String keyBrokerUrl() {
        return keyBrokerUrl;
    }

    public String schemaRegistryUrl() {
        return schemaRegistryUrl;
    }

    public StreamProcessorConfig streams() {
        return streams;
    }

    public Duration keyRefresh() {
        return keyRefresh;
    }

    public Duration brokerTimeout() {
        return brokerTimeout;
    }

    public int healthPort() {
        return healthPort;
    }

    /** The address /healthz and /readyz listen on: loopback unless a probe must reach them (a pod's address). */
    public String healthAddress() {
        return healthAddress;
    }

    public Path workDir() {
        return workDir;
    }

    /** Builder; worker id, key broker URL, registry URL and stream settings are required. */
    public static final class Builder {
        private String workerId;
        private String keyBrokerUrl;
        private String schemaRegistryUrl;
        private StreamProcessorConfig streams;
        private Duration keyRefresh = DEFAULT_KEY_REFRESH;
        private Duration brokerTimeout = Duration.ofSeconds(10);
        private int healthPort = DEFAULT_HEALTH_PORT;
        private String healthAddress = DEFAULT_HEALTH_ADDRESS;
        private Path workDir;

        private Builder() {
        }

        public Builder workerId(String workerId) {
            this.workerId = workerId;
            return this;
        }

        public Builder keyBrokerUrl(String keyBrokerUrl) {
            this.keyBrokerUrl = keyBrokerUrl;
            return this;
        }

        public Builder schemaRegistryUrl(String schemaRegistryUrl) {
            this.schemaRegistryUrl = schemaRegistryUrl;
            return this;
        }

        public Builder streams(StreamProcessorConfig streams) {
            this.streams = streams;
            return this;
        }

        public Builder keyRefresh(Duration keyRefresh) {
            this.keyRefresh = keyRefresh;
            return this;
        }

        public Builder brokerTimeout(Duration brokerTimeout) {
            this.brokerTimeout = brokerTimeout;
            return this;
        }

        public Builder healthPort(int healthPort) {
            this.healthPort = healthPort;
            return this;
        }

        /**
         * The address the health endpoints listen on; default {@value #DEFAULT_HEALTH_ADDRESS}.
         * Under Kubernetes, the pod's address (or 0.0.0.0) so the kubelet's probes reach them.
         */
        public Builder healthAddress(String healthAddress) {
            this.healthAddress = healthAddress;
            return this;
        }

        /** Scratch space for the worker (model extraction); default the state dir's parent. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        public WorkerConfig build() {
            Objects.requireNonNull(workerId, "the worker needs an id");
            Objects.requireNonNull(keyBrokerUrl, "the worker needs the key broker URL");
            Objects.requireNonNull(schemaRegistryUrl, "the worker needs the schema registry URL");
            Objects.requireNonNull(streams, "the worker needs stream processor settings");
            if (healthAddress == null || healthAddress.isBlank()) {
                throw new IllegalArgumentException("the health address is empty; give an IP address or host name "
                        + "to listen on (" + DEFAULT_HEALTH_ADDRESS + " by default)");
            }
            if (workDir == null) {
                workDir = streams.stateDir();
            }
            return new WorkerConfig(this);
        }
    }
}
