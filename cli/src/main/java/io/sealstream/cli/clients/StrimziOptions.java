package io.sealstream.cli.clients;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.StrimziResources;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options of the {@code manifest} subcommands, which print provisioning as Strimzi custom
 * resources ({@link StrimziResources}) for a Kafka cluster that Strimzi runs under Kubernetes.
 */
final class StrimziOptions {
    @Option(names = "--cluster", defaultValue = "sealstream",
            description = "Name of the Strimzi Kafka resource (the strimzi.io/cluster label; default ${DEFAULT-VALUE}).")
    String cluster;

    @Option(names = "--partitions", defaultValue = "" + KafkaNames.DEFAULT_PARTITIONS, description = "Partitions of each topic: every request topic "
            + "needs the same count, the most workers that can share the load (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--replicas", defaultValue = "3", description = "Replicas of each topic (default ${DEFAULT-VALUE}).")
    int replicas;

    StrimziResources resources() {
        return new StrimziResources(cluster, KafkaNames.DEFAULTS, partitions, replicas);
    }

    /** The resources as one YAML stream, headed by the command line that renders it again. */
    static String yaml(String commandLine, List<Map<String, Object>> resources) {
        YAMLMapper yaml = YAMLMapper.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                // a topic setting is a string; unquoted, "-1" would read back as a number
                .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).build();
        List<String> documents = new ArrayList<>();
        for (Map<String, Object> r : resources) {
            try {
                documents.add(yaml.writeValueAsString(r));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write " + r.get("kind") + " as YAML", e);
            }
        }
        return "# Rendered by '" + commandLine + "' from the ACL table (docs/tenancy.md); do not edit.\n"
                + String.join("---\n", documents);
    }
}
