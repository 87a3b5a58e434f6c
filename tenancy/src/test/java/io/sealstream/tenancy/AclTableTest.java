package io.sealstream.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import org.junit.jupiter.api.Test;

class AclTableTest {
    private static final String BEGIN = "<!-- acl-table:begin (rendered from tenancy AclTable; AclTableTest checks it) -->";
    private static final String END = "<!-- acl-table:end -->";

    @Test
    void docsTenancyHoldsTheTableAsTheCodeDefinesIt() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "tenancy.md"));
        int begin = doc.indexOf(BEGIN);
        int end = doc.indexOf(END);
        assertThat(begin).as("docs/tenancy.md has the marker " + BEGIN).isNotNegative();
        assertThat(end).as("docs/tenancy.md has the marker " + END).isGreaterThan(begin);

        assertThat(doc.substring(begin + BEGIN.length(), end).strip())
                .as("the ACL table of docs/tenancy.md; paste:%n%s", AclTable.markdown()).isEqualTo(AclTable.markdown());
    }

    @Test
    void aClientsBindingsAreLiteralAndNameOnlyItsOwnTopicsAndGroup() {
        var bindings = AclTable.clientBindings(KafkaNames.DEFAULTS, "acme");

        assertThat(bindings).extracting(b -> b.pattern().patternType()).containsOnly(PatternType.LITERAL);
        assertThat(bindings).extracting(b -> b.pattern().name())
                .containsOnly("sealstream.requests.acme", "sealstream.responses.acme", "sealstream.streams.acme", "acme");
        assertThat(bindings).extracting(b -> b.entry().principal()).containsOnly("User:acme");
    }

    @Test
    void aClientMayWriteRequestsAndReadAnswersButNotTheReverse() {
        var bindings = AclTable.clientBindings(KafkaNames.DEFAULTS, "acme");

        assertThat(bindings).filteredOn(b -> b.pattern().name().equals("sealstream.responses.acme"))
                .extracting(b -> b.entry().operation().name()).containsExactlyInAnyOrder("READ", "DESCRIBE");
        assertThat(bindings).filteredOn(b -> b.pattern().name().equals("sealstream.requests.acme"))
                .extracting(b -> b.entry().operation().name()).containsExactlyInAnyOrder("WRITE", "DESCRIBE");
        assertThat(bindings).filteredOn(b -> b.pattern().name().equals("sealstream.streams.acme"))
                .extracting(b -> b.entry().operation().name()).containsExactlyInAnyOrder("READ", "DESCRIBE");
    }

    @Test
    void eachWorkerPoolGetsItsOwnFamilyAndGroupAndAClientOneRequestTopicPerPool() {
        KafkaNames names = KafkaNames.DEFAULTS.withPools(List.of("default", "chat"));

        assertThat(AclTable.workerBindings(names)).extracting(b -> b.pattern().name())
                .contains("sealstream.requests.", "sealstream.requests-chat.", "sealstream-worker", "sealstream-worker.chat", "sealstream-worker.chat-");
        assertThat(AclTable.clientBindings(names, "acme")).extracting(b -> b.pattern().name()).containsOnly(
                "sealstream.requests.acme", "sealstream.requests-chat.acme", "sealstream.responses.acme",
                "sealstream.streams.acme", "acme");
        assertThat(AclTable.clientBindings(names, "acme")).doesNotHaveDuplicates();
        // no row of one pool reaches another pool's names
        assertThat("sealstream-worker.chat-buffer-changelog").doesNotStartWith("sealstream-worker-");
        assertThat("sealstream.requests-chat.acme").doesNotStartWith("sealstream.requests.");
    }

    @Test
    void aClientIdThatCouldReachTheDeploymentsNamesIsRefused() {
        for (String id : new String[] {"sealstream-worker", "SealStream", "a.b", "*", "", "x".repeat(201)}) {
            assertThatThrownBy(() -> AclTable.clientBindings(KafkaNames.DEFAULTS, id)).as(id)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void theWorkersBindingsFollowTheDeploymentsNames() {
        KafkaNames names = new KafkaNames("tenant.requests", "pool-a", "pool-a.dlq", "pool-a-user", List.of("default"));

        var bindings = AclTable.workerBindings(names);

        assertThat(bindings).extracting(b -> b.entry().principal()).containsOnly("User:pool-a-user");
        assertThat(bindings).extracting(AclBinding::pattern).extracting(p -> p.name())
                .contains("tenant.requests.", "sealstream.responses.", "pool-a.dlq", "pool-a-", "pool-a");
    }
}
