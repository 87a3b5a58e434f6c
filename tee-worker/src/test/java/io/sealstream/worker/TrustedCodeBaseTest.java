package io.sealstream.worker;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The worker's class path is its trusted code base: it talks to the key broker through the
 * broker's API module and links none of the broker itself, nor the development stack.
 */
class TrustedCodeBaseTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "io.sealstream.keybroker.KeyBroker",
            "io.sealstream.keybroker.http.KeyBrokerServer",
            "io.sealstream.keybroker.custody.Custody",
            "io.sealstream.devstack.kafka.EmbeddedKafka",
            "io.sealstream.cli.SealstreamCommand"})
    void theWorkerDoesNotLink(String className) {
        assertThatThrownBy(() -> Class.forName(className, false, getClass().getClassLoader()))
                .as("%s on the worker's class path", className).isInstanceOf(ClassNotFoundException.class);
    }
}
