package io.sealstream.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the Strimzi rendering of provisioning holds (its typed check against Strimzi's model: cli KubernetesManifestTest). */
class StrimziResourcesTest {
    private final StrimziResources strimzi = new StrimziResources("sealstream", KafkaNames.DEFAULTS, 6, 3);

    @SuppressWarnings("unchecked")
    private static <T> T at(Map<String, Object> tree, String... path) {
        Object node = tree;
        for (String key : path) {
            node = ((Map<String, Object>) node).get(key);
        }
        return (T) node;
    }

    @Test
    void theServicesGetTheirUsersTheDeadLetterTopicAndTheAuditTopic() {
        List<Map<String, Object>> r = strimzi.workers();

        assertThat(r).extracting(m -> m.get("kind") + "/" + at(m, "metadata", "name"))
                .containsExactly("KafkaUser/sealstream-worker", "KafkaUser/sealstream-autoscaler", "KafkaTopic/sealstream.dlq",
                        "KafkaUser/sealstream-key-broker", "KafkaTopic/sealstream.audit");
        assertThat((Object) at(r.get(4), "spec", "partitions")).as("one order for every chain").isEqualTo(1);
        assertThat((Object) at(r.get(3), "spec", "quotas", "producerByteRate")).as("the key broker's credential lives "
                + "outside the TEE: it cannot fill the brokers' disks fast").isEqualTo((int) ClientQuota.KEY_BROKER.produceBytesPerSecond());
        assertThat(r).allSatisfy(m -> assertThat(m.get("apiVersion")).isEqualTo("kafka.strimzi.io/v1"));
        assertThat(r).allSatisfy(m -> assertThat(at(m, "metadata", "labels").equals(Map.of("strimzi.io/cluster", "sealstream")))
                .isTrue());
    }

    @Test
    void theAutoscalerMayOnlyDescribe() {
        List<Map<String, Object>> acls = at(strimzi.workers().get(1), "spec", "authorization", "acls");

        assertThat(acls.stream().flatMap(a -> ((List<?>) a.get("operations")).stream()).map(String::valueOf))
                .containsOnly("Describe");
        assertThat(AclTable.autoscalerBindings(KafkaNames.DEFAULTS)).extracting(b -> b.pattern().name())
                .containsExactlyInAnyOrder("sealstream.requests.", "sealstream-worker");
    }

    @Test
    void aClientGetsItsQuotaAndTopicsWithTheResponseTopicsLimit() {
        List<Map<String, Object>> r = strimzi.client("acme", ClientQuota.DEFAULT);

        assertThat(r).extracting(m -> at(m, "spec", "topicName") == null ? "user " + at(m, "metadata", "name")
                : at(m, "spec", "topicName")).containsExactly("user acme", "sealstream.requests.acme", "sealstream.responses.acme",
                        "sealstream.streams.acme");
        assertThat((Map<String, Object>) at(r.get(0), "spec", "quotas")).containsEntry("producerByteRate", 4 << 20)
                .containsEntry("consumerByteRate", 32 << 20).containsEntry("requestPercentage", 50);
        assertThat((Map<String, Object>) at(r.get(2), "spec", "config")).containsEntry("max.message.bytes",
                ClientProvisioner.RESPONSE_TOPIC_CONFIG.get("max.message.bytes"));
        assertThat((Object) at(r.get(1), "spec", "partitions")).isEqualTo(6);
    }

    @Test
    void aClientIdThatIsNoKubernetesNameIsRefusedWithWhatToUse() {
        assertThatThrownBy(() -> strimzi.client("Acme_Corp", ClientQuota.DEFAULT)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lower-case");
    }

    @Test
    void theWorkersIdsAreNoClientsEvenUnderStrimzi() {
        assertThatThrownBy(() -> strimzi.client("sealstream-autoscaler", ClientQuota.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFractionalRequestPercentageIsRefusedRatherThanRounded() {
        assertThatThrownBy(() -> strimzi.client("acme", new ClientQuota(1, 1, 12.5))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("whole request percentage");
    }
}
