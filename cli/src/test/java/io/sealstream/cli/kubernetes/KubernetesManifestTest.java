package io.sealstream.cli.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.sealstream.attestation.tsm.TeeSelection;
import io.sealstream.cli.kubernetes.StrictManifests.Document;
import io.sealstream.envelope.EnvelopeProtocol;
import io.sealstream.keybroker.KeyBrokerSettings;
import io.sealstream.keybroker.api.KeyBrokerPaths;
import io.sealstream.service.ServiceSettings;
import io.sealstream.service.Setting;
import io.sealstream.tenancy.AclTable;
import io.sealstream.tenancy.KafkaNames;
import io.sealstream.tenancy.StrimziResources;
import io.sealstream.worker.TeeWorker;
import io.sealstream.worker.WorkerSettings;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import io.strimzi.api.kafka.model.user.KafkaUserAuthorizationSimple;
import io.strimzi.api.kafka.model.user.acl.AclRule;
import io.strimzi.api.kafka.model.user.acl.AclRuleGroupResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTopicResource;
import io.strimzi.api.kafka.model.user.acl.AclRuleTransactionalIdResource;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * kubernetes/ agrees with the code: every manifest parses into Kubernetes', Strimzi's and KEDA's
 * typed models with no unknown field; the services' config files, environment, ports, probe paths
 * and mounted files are the ones the worker and the key broker read and serve; the Kafka users are
 * the ACL table's rows; the autoscaler scales the workers' group up to the partitions.
 */
class KubernetesManifestTest {
    private static final List<String> OVERLAYS = List.of("snp", "tdx");
    /** Where the manifests expect Strimzi's Kafka cluster and the schema registry, and go themselves. */
    private static final String KAFKA_NAMESPACE = "kafka";
    /** The schema registry pods' port (a network policy names the pod's port, not the Service's). */
    private static final int REGISTRY_POD_PORT = 8081;

    static Path kubernetes;
    static Path base;
    static Map<String, Object> kustomization;
    static List<Document> resources;

    @BeforeAll
    static void readTheBase() throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isRegularFile(dir.resolve("kubernetes/base/kustomization.yaml"))) {
            dir = dir.getParent();
        }
        kubernetes = dir.resolve("kubernetes");
        base = kubernetes.resolve("base");
        kustomization = yaml(base.resolve("kustomization.yaml"));
        resources = new ArrayList<>();
        for (Object file : (List<?>) kustomization.get("resources")) {
            Path f = base.resolve((String) file);
            resources.addAll(StrictManifests.read(f.toString(), Files.readString(f)));
        }
    }

    // --- every manifest fits its schema

    @Test
    void theBaseGoesWhereStrimziWritesTheUsersSecretsAndTheClusterCa() {
        assertThat(kustomization.get("namespace")).isEqualTo(KAFKA_NAMESPACE);
    }

    @Test
    void theBaseHoldsTheServicesTheirBudgetsPoliciesKafkaUsersAndAutoscaler() {
        assertThat(resources).extracting(d -> d.kind() + "/" + d.name()).containsExactlyInAnyOrder(
                "KafkaUser/sealstream-worker", "KafkaUser/sealstream-autoscaler", "KafkaTopic/sealstream.dlq",
                "KafkaUser/sealstream-key-broker", "KafkaTopic/sealstream.audit",
                "StatefulSet/sealstream-key-broker", "Service/sealstream-key-broker", "Service/sealstream-key-broker-pods",
                "PodDisruptionBudget/sealstream-key-broker", "Deployment/sealstream-worker",
                "PodDisruptionBudget/sealstream-worker", "NetworkPolicy/sealstream-worker",
                "NetworkPolicy/sealstream-key-broker", "ScaledObject/sealstream-worker",
                "TriggerAuthentication/sealstream-autoscaler");
    }

    @Test
    void aMisspelledFieldIsRefusedEvenWhereTheModelWouldKeepIt() {
        String deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w\nspec:\n  replica: 2\n";
        String user = "apiVersion: kafka.strimzi.io/v1\nkind: KafkaUser\nmetadata:\n  name: u\nspec:\n  authentification: {}\n";

        assertThatThrownBy(() -> StrictManifests.read("deployment", deployment)).hasMessageContaining("replica");
        assertThatThrownBy(() -> StrictManifests.read("user", user)).hasMessageContaining("authentification");
    }

    @Test
    void aNumberWhereKedaWantsAStringIsRefused() {
        String scaled = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: s\nspec:\n  triggers:\n"
                + "    - type: kafka\n      metadata:\n        lagThreshold: 256\n";

        assertThatThrownBy(() -> StrictManifests.read("scaled", scaled)).hasMessageContaining("lagThreshold");
    }

    @Test
    void aKindNoSealstreamManifestHasIsRefused() {
        assertThatThrownBy(() -> StrictManifests.read("x", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n"))
                .hasMessageContaining("v1/Pod");
    }

    // --- Kafka: the ACL table's principals and rows

    @Test
    void kafkaYamlIsWhatWorkersManifestRendersFromTheAclTable() throws IOException {
        int partitions = dlqTopic().getSpec().getPartitions();
        StrimziResources strimzi = new StrimziResources(cluster(), KafkaNames.DEFAULTS, partitions,
                dlqTopic().getSpec().getReplicas());
        String file = Files.readString(base.resolve("kafka.yaml"));

        assertThat(StrictManifests.read("kafka.yaml", file)).extracting(Document::tree)
                .as("kubernetes/base/kafka.yaml; render it again with: %s", "sealstream workers manifest --partitions "
                        + partitions)
                .containsExactlyElementsOf(strimzi.workers().stream().map(StrictManifests::tree).toList());
        assertThat(file).startsWith("# Rendered by 'sealstream workers manifest --cluster " + cluster() + " --partitions "
                + partitions + " --replicas " + dlqTopic().getSpec().getReplicas() + "'");
    }

    @Test
    void theStrimziUsersGrantExactlyTheAclTablesRows() {
        KafkaNames names = KafkaNames.DEFAULTS;

        assertThat(bindingsOf(kafkaUser(names.workerUser()))).containsExactlyInAnyOrderElementsOf(
                AclTable.workerBindings(names));
        assertThat(bindingsOf(kafkaUser(names.autoscalerUser()))).containsExactlyInAnyOrderElementsOf(
                AclTable.autoscalerBindings(names));
        assertThat(bindingsOf(kafkaUser(KafkaNames.KEY_BROKER_USER))).containsExactlyInAnyOrderElementsOf(
                AclTable.keyBrokerBindings(names));
        assertThat(kafkaUser(names.workerUser()).getSpec().getAuthentication().getType()).isEqualTo("scram-sha-512");
    }

    @Test
    void aClientsStrimziResourcesGrantExactlyItsRowsAndFitStrimzisSchema() {
        StrimziResources strimzi = new StrimziResources(cluster(), KafkaNames.DEFAULTS, 6, 3);

        List<Object> typed = strimzi.client("acme", io.sealstream.tenancy.ClientQuota.DEFAULT).stream()
                .map(r -> StrictManifests.typed("clients manifest acme", StrictManifests.tree(r))).toList();

        assertThat(bindingsOf((KafkaUser) typed.get(0)))
                .containsExactlyInAnyOrderElementsOf(AclTable.clientBindings(KafkaNames.DEFAULTS, "acme"));
        assertThat(typed.subList(1, typed.size())).extracting(t -> ((KafkaTopic) t).getSpec().getTopicName())
                .containsExactly("sealstream.requests.acme", "sealstream.responses.acme", "sealstream.streams.acme");
    }

    // --- the worker: settings, environment, files, ports, probes

    @Test
    void theWorkerConfigAndThePodsEnvironmentAreSettingsTheWorkerAccepts() {
        ServiceSettings s = workerSettings();

        assertThat(s.string(WorkerSettings.WORKER_ID)).isEqualTo("sealstream-worker-0");
        for (Setting required : WorkerSettings.SCHEMA.settings().stream().filter(Setting::required).toList()) {
            assertThat(s.optional(required)).as(required.name()).isPresent();
        }
        assertThat(s.string(WorkerSettings.HEALTH_ADDRESS)).as("probes come from the node").isEqualTo("0.0.0.0");
        assertThat(s.optional(WorkerSettings.KAFKA.credentialsFile())).as("the Strimzi Secret is mounted as it is").isEmpty();
        assertThat(s.string(WorkerSettings.KAFKA.username())).isEqualTo(KafkaNames.DEFAULTS.workerUser());
        assertThat(s.millis(WorkerSettings.COMMIT_INTERVAL, java.time.Duration.ZERO)).as("a replicated cluster's")
                .isEqualTo(io.sealstream.streams.StreamProcessorConfig.REPLICATED_COMMIT_INTERVAL);
    }

    @Test
    void everyFileTheWorkerReadsLiesOnTheMountOfItsSource() {
        ServiceSettings s = workerSettings();
        PodSpec pod = worker().getSpec().getTemplate().getSpec();

        assertThat(source(pod, s.string(WorkerSettings.KAFKA.passwordFile())))
                .isEqualTo("secret " + KafkaNames.DEFAULTS.workerUser() + " key password");
        assertThat(source(pod, s.string(WorkerSettings.KAFKA.caFile()))).isEqualTo("secret " + caSecret() + " key ca.crt");
        assertThat(source(pod, s.string(WorkerSettings.STATE_DIR))).isEqualTo("emptyDir");
        assertThat(source(pod, configArgument(container(pod)))).isEqualTo("configMap sealstream-worker-config");
    }

    @Test
    void theWorkersProbesAskThePathsAndPortItServes() {
        Container c = container(worker().getSpec().getTemplate().getSpec());
        int port = Integer.parseInt(workerSettings().string(WorkerSettings.HEALTH_PORT));

        assertThat(namedPort(c, "health")).isEqualTo(port);
        assertThat(probe(c.getStartupProbe(), "health")).isEqualTo(TeeWorker.HEALTH_PATH);
        assertThat(probe(c.getLivenessProbe(), "health")).isEqualTo(TeeWorker.HEALTH_PATH);
        assertThat(probe(c.getReadinessProbe(), "health")).isEqualTo(TeeWorker.READY_PATH);
    }

    @Test
    void prometheusIsToldEachServicesMetricsPortAndPath() {
        Map<String, String> worker = worker().getSpec().getTemplate().getMetadata().getAnnotations();
        Map<String, String> broker = one(StatefulSet.class, "sealstream-key-broker").getSpec().getTemplate().getMetadata()
                .getAnnotations();

        assertThat(worker).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", workerSettings().string(WorkerSettings.HEALTH_PORT))
                .containsEntry("prometheus.io/path", io.sealstream.service.ServiceMetrics.PATH);
        assertThat(broker).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", keyBrokerSettings().string(KeyBrokerSettings.METRICS_PORT))
                .containsEntry("prometheus.io/path", io.sealstream.service.ServiceMetrics.PATH);
    }

    @Test
    void aStoppingWorkerHasTimeToFinishOrAbandonItsBatch() {
        assertThat(worker().getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
                .isGreaterThan(TeeWorker.LONGEST_SHUTDOWN.toSeconds());
    }

    @Test
    void theWorkersReachTheKeyBrokerAndKafkaWhereTheManifestsPutThem() {
        ServiceSettings s = workerSettings();
        URI keyBroker = URI.create(s.string(WorkerSettings.KEY_BROKER_URL));
        Service service = one(Service.class, "sealstream-key-broker");

        assertThat(keyBroker.getHost()).isEqualTo(service.getMetadata().getName());
        assertThat(keyBroker.getPort()).isEqualTo(service.getSpec().getPorts().get(0).getPort());
        // the autoscaler runs in KEDA's namespace: a name that resolves from any namespace, the same cluster
        assertThat(s.string(WorkerSettings.KAFKA.bootstrapServers())).startsWith(cluster() + "-kafka-bootstrap." + KAFKA_NAMESPACE
                + ".svc:").isEqualTo(scaledObject().spec().triggers().get(0).metadata().bootstrapServers());
    }

    // --- the key broker

    @Test
    void theKeyBrokerConfigIsAcceptedAndItsFilesLieOnTheirMounts() {
        ServiceSettings s = keyBrokerSettings();
        StatefulSet broker = one(StatefulSet.class, "sealstream-key-broker");
        PodSpec pod = broker.getSpec().getTemplate().getSpec();

        for (Setting required : KeyBrokerSettings.SCHEMA.settings().stream().filter(Setting::required).toList()) {
            assertThat(s.optional(required)).as(required.name()).isPresent();
        }
        assertThat(s.string(KeyBrokerSettings.BIND_ADDRESS)).isEqualTo("0.0.0.0");
        assertThat(s.string(KeyBrokerSettings.CUSTODY)).as("never the development file").isNotEqualTo("dev");
        assertThat(source(pod, s.string(KeyBrokerSettings.POLICY_FILE))).isEqualTo("configMap sealstream-policy");
        assertThat(source(pod, configArgument(container(pod)))).isEqualTo("configMap sealstream-key-broker-config");
        String dataMount = mountOf(container(pod), s.string(KeyBrokerSettings.DATA_DIR)).orElseThrow().getName();
        assertThat(broker.getSpec().getVolumeClaimTemplates()).extracting(c -> c.getMetadata().getName()).contains(dataMount);
    }

    @Test
    void theKeyBrokerAuditsToTheWorkersClusterAsItsOwnKafkaUser() {
        ServiceSettings s = keyBrokerSettings();
        PodSpec pod = one(StatefulSet.class, "sealstream-key-broker").getSpec().getTemplate().getSpec();

        assertThat(s.string(KeyBrokerSettings.AUDIT_SINK)).isEqualTo("kafka");
        assertThat(s.string(KeyBrokerSettings.KAFKA.username())).isEqualTo(KafkaNames.KEY_BROKER_USER);
        assertThat(source(pod, s.string(KeyBrokerSettings.KAFKA.passwordFile())))
                .isEqualTo("secret " + KafkaNames.KEY_BROKER_USER + " key password");
        assertThat(source(pod, s.string(KeyBrokerSettings.KAFKA.caFile()))).isEqualTo("secret " + caSecret() + " key ca.crt");
        assertThat(s.string(KeyBrokerSettings.KAFKA.bootstrapServers()))
                .isEqualTo(workerSettings().string(WorkerSettings.KAFKA.bootstrapServers()));
        assertThat(s.string(KeyBrokerSettings.REGISTRY_URL)).isEqualTo(workerSettings().string(WorkerSettings.REGISTRY_URL));
    }

    @Test
    void theKeyBrokersPortProbesAndServiceAreTheOnesItServes() {
        StatefulSet broker = one(StatefulSet.class, "sealstream-key-broker");
        Container c = container(broker.getSpec().getTemplate().getSpec());
        Service service = one(Service.class, "sealstream-key-broker");
        int port = Integer.parseInt(keyBrokerSettings().string(KeyBrokerSettings.PORT));

        assertThat(namedPort(c, "http")).isEqualTo(port);
        assertThat(probe(c.getLivenessProbe(), "http")).isEqualTo(KeyBrokerPaths.HEALTH);
        assertThat(probe(c.getReadinessProbe(), "http")).isEqualTo(KeyBrokerPaths.READY);
        assertThat(service.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("http");
        assertThat(service.getSpec().getSelector()).isEqualTo(broker.getSpec().getSelector().getMatchLabels());
    }

    @Test
    void aKeyBrokerAwaitingRecoveryOrAPeerIsReachableByNameThoughNotReady() {
        StatefulSet broker = one(StatefulSet.class, "sealstream-key-broker");
        Service pods = one(Service.class, broker.getSpec().getServiceName());

        assertThat(pods.getSpec().getClusterIP()).as("headless: one name per replica").isEqualTo("None");
        assertThat(pods.getSpec().getPublishNotReadyAddresses()).as("/readyz is 503 until recovered").isTrue();
        assertThat(pods.getSpec().getSelector()).isEqualTo(broker.getSpec().getSelector().getMatchLabels());
        assertThat(pods.getSpec().getPorts().get(0).getPort())
                .isEqualTo(Integer.parseInt(keyBrokerSettings().string(KeyBrokerSettings.PORT)));
    }

    @Test
    void eachPodsHeapAndInMemoryVolumesLeaveAQuarterOfItsMemoryLimitForNativeMemory() {
        for (PodTemplateSpec t : templates()) {
            Container c = container(t.getSpec());
            long limit = c.getResources().getLimits().get("memory").getNumericalAmount().longValue();
            String options = env(t.getSpec()).getOrDefault("JDK_JAVA_OPTIONS", "");
            java.util.regex.Matcher xmx = java.util.regex.Pattern.compile("-Xmx(\\d+)([mg])").matcher(options);
            assertThat(xmx.find()).as("%s sets its heap (the image's default is a share of the limit)", c.getName()).isTrue();
            long heap = Long.parseLong(xmx.group(1)) << (xmx.group(2).equals("g") ? 30 : 20);
            long volumes = t.getSpec().getVolumes().stream().filter(v -> v.getEmptyDir() != null)
                    .mapToLong(v -> v.getEmptyDir().getSizeLimit().getNumericalAmount().longValue()).sum();
            assertThat(heap + volumes).as(c.getName()).isLessThanOrEqualTo(limit / 4 * 3);
        }
    }

    @Test
    void secretsAreMountedReadableByThePodsGroupAloneWhichIsItsOwnGroup() {
        for (PodTemplateSpec t : templates()) {
            PodSpec pod = t.getSpec();
            assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(pod.getSecurityContext().getRunAsGroup());
            for (Volume v : pod.getVolumes()) {
                if (v.getSecret() != null && v.getSecret().getItems().stream().anyMatch(i -> i.getKey().equals("password"))) {
                    // the worker refuses a password file that its group may write or others may read
                    assertThat(v.getSecret().getDefaultMode()).as(v.getName()).isIn(0400, 0440);
                }
            }
        }
    }

    // --- both services

    @Test
    void everyPodRunsNonRootOnAReadOnlyRootWithoutCapabilitiesNorAnApiToken() {
        for (PodTemplateSpec t : templates()) {
            PodSpec pod = t.getSpec();
            String name = t.getMetadata().getLabels().get("app.kubernetes.io/name");
            assertThat(pod.getAutomountServiceAccountToken()).as(name).isFalse();
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).as(name).isEqualTo(65532L);
            assertThat(pod.getSecurityContext().getSeccompProfile().getType()).as(name).isEqualTo("RuntimeDefault");
            assertThat(pod.getHostNetwork()).as(name).isNotEqualTo(Boolean.TRUE);
            for (Container c : pod.getContainers()) {
                assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(name).isTrue();
                assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(name).isFalse();
                assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(name).containsExactly("ALL");
                assertThat(c.getSecurityContext().getPrivileged()).as(name).isNotEqualTo(Boolean.TRUE);
            }
        }
    }

    @Test
    void everyScratchVolumeIsInMemorySoInsideTheTeeUnderKata() {
        for (PodTemplateSpec t : templates()) {
            for (Volume v : t.getSpec().getVolumes()) {
                if (v.getEmptyDir() != null) {
                    assertThat(v.getEmptyDir().getMedium()).as("%s volume %s", t.getMetadata().getLabels(), v.getName())
                            .isEqualTo("Memory");
                }
            }
        }
    }

    @Test
    void everyContainerHasRequestsAndAMemoryLimit() {
        for (PodTemplateSpec t : templates()) {
            for (Container c : t.getSpec().getContainers()) {
                assertThat(c.getResources().getRequests()).as(c.getName()).containsKeys("cpu", "memory");
                assertThat(c.getResources().getLimits()).as(c.getName()).containsKey("memory");
            }
        }
    }

    @Test
    void theImagesAreTheOnesDockerBuildsAndTheirTagIsLeftToKustomize() throws IOException {
        String compose = Files.readString(kubernetes.getParent().resolve("docker/compose.yaml"));
        for (PodTemplateSpec t : templates()) {
            String image = t.getSpec().getContainers().get(0).getImage();
            assertThat(image).doesNotContain(":").doesNotContain("@");
            assertThat(compose).contains("image: " + image + ":");
        }
    }

    @Test
    void eachDisruptionBudgetSelectsItsWorkloadsPods() {
        assertThat(one(PodDisruptionBudget.class, "sealstream-worker").getSpec().getSelector().getMatchLabels())
                .isEqualTo(worker().getSpec().getSelector().getMatchLabels());
        assertThat(one(PodDisruptionBudget.class, "sealstream-key-broker").getSpec().getSelector().getMatchLabels())
                .isEqualTo(one(StatefulSet.class, "sealstream-key-broker").getSpec().getSelector().getMatchLabels());
    }

    @Test
    void theWorkersAcceptOnlyPrometheusOnTheirHealthPortAndReachOnlyDnsKafkaTheRegistryAndTheKeyBroker() {
        NetworkPolicy p = one(NetworkPolicy.class, "sealstream-worker");
        URI registry = URI.create(workerSettings().string(WorkerSettings.REGISTRY_URL));
        String keyBrokerPort = keyBrokerSettings().string(KeyBrokerSettings.PORT);

        assertThat(p.getSpec().getPodSelector().getMatchLabels()).isEqualTo(worker().getSpec().getSelector().getMatchLabels());
        assertThat(p.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(rules(p.getSpec().getIngress().stream().map(i -> new Rule(i.getFrom(), i.getPorts())).toList()))
                .containsExactly(PROMETHEUS + ": TCP/" + workerSettings().string(WorkerSettings.HEALTH_PORT));
        assertThat(rules(p.getSpec().getEgress().stream().map(e -> new Rule(e.getTo(), e.getPorts())).toList()))
                .containsExactlyInAnyOrder(
                        "any namespace, k8s-app=kube-dns: UDP/53 TCP/53",
                        "namespace " + KAFKA_NAMESPACE + ", strimzi.io/cluster=" + cluster() + " strimzi.io/kind=Kafka: TCP/9093",
                        "namespace " + KAFKA_NAMESPACE + ", app.kubernetes.io/name=schema-registry: TCP/" + REGISTRY_POD_PORT,
                        "this namespace, app.kubernetes.io/name=sealstream-key-broker: TCP/" + keyBrokerPort);
        assertThat(registry.getHost()).endsWith("." + KAFKA_NAMESPACE + ".svc");
    }

    @Test
    void theKeyBrokerTakesCallsFromWorkersItsPeerAndClientsOnItsApiPortAndPrometheusOnItsMetricsPortAndReachesOnlyDnsItsPeerKafkaAndTheRegistry() {
        NetworkPolicy p = one(NetworkPolicy.class, "sealstream-key-broker");
        String api = "TCP/" + keyBrokerSettings().string(KeyBrokerSettings.PORT);

        assertThat(p.getSpec().getPodSelector().getMatchLabels())
                .isEqualTo(one(StatefulSet.class, "sealstream-key-broker").getSpec().getSelector().getMatchLabels());
        assertThat(rules(p.getSpec().getIngress().stream().map(i -> new Rule(i.getFrom(), i.getPorts())).toList()))
                .containsExactly("this namespace, app.kubernetes.io/name=sealstream-worker | this namespace, "
                        + "app.kubernetes.io/name=sealstream-key-broker | any namespace, sealstream.io/client=true: " + api,
                        PROMETHEUS + ": TCP/" + keyBrokerSettings().string(KeyBrokerSettings.METRICS_PORT));
        assertThat(rules(p.getSpec().getEgress().stream().map(e -> new Rule(e.getTo(), e.getPorts())).toList()))
                .containsExactlyInAnyOrder("any namespace, k8s-app=kube-dns: UDP/53 TCP/53",
                        "this namespace, app.kubernetes.io/name=sealstream-key-broker: " + api,
                        "namespace " + KAFKA_NAMESPACE + ", strimzi.io/cluster=" + cluster() + " strimzi.io/kind=Kafka: TCP/9093",
                        "namespace " + KAFKA_NAMESPACE + ", app.kubernetes.io/name=schema-registry: TCP/" + REGISTRY_POD_PORT);
    }

    /** Prometheus as the network policies admit it. */
    private static final String PROMETHEUS = "namespace labelled {sealstream.io/monitoring=true}, "
            + "app.kubernetes.io/name=prometheus";

    /** One network policy rule: its peers and ports. */
    private record Rule(List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer> peers,
                        List<NetworkPolicyPort> ports) {
    }

    /** Each rule as "peer | peer: port port"; a rule without peers or ports (anyone, any port) fails. */
    private static List<String> rules(List<Rule> rules) {
        List<String> out = new ArrayList<>();
        for (Rule r : rules) {
            assertThat(r.peers()).as("a rule names whom it admits").isNotEmpty();
            assertThat(r.ports()).as("a rule names its ports").isNotEmpty();
            out.add(r.peers().stream().map(KubernetesManifestTest::peer).collect(Collectors.joining(" | ")) + ": "
                    + r.ports().stream().map(KubernetesManifestTest::port).collect(Collectors.joining(" ")));
        }
        return out;
    }

    private static String peer(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer p) {
        assertThat(p.getIpBlock()).as("no address ranges").isNull();
        assertThat(p.getPodSelector()).as("a peer is a set of pods").isNotNull();
        assertThat(p.getPodSelector().getMatchExpressions()).isNullOrEmpty();
        String namespace = p.getNamespaceSelector() == null ? "this namespace"
                : p.getNamespaceSelector().getMatchLabels() == null || p.getNamespaceSelector().getMatchLabels().isEmpty()
                ? "any namespace" : "namespace " + p.getNamespaceSelector().getMatchLabels().getOrDefault(
                        "kubernetes.io/metadata.name", "labelled " + new java.util.TreeMap<>(p.getNamespaceSelector().getMatchLabels()));
        return namespace + ", " + new java.util.TreeMap<>(p.getPodSelector().getMatchLabels()).entrySet().stream()
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    // --- the autoscaler

    @Test
    void kedaScalesTheWorkersOnTheirGroupsLagUpToTheRequestTopicsPartitions() {
        Keda.ScaledObjectSpec spec = scaledObject().spec();
        Keda.KafkaMetadata kafka = spec.triggers().get(0).metadata();

        assertThat(spec.scaleTargetRef().name()).isEqualTo(worker().getMetadata().getName());
        assertThat(spec.scaleTargetRef().kind()).as("Deployment, KEDA's default").isIn(null, "Deployment");
        assertThat(spec.triggers()).extracting(Keda.Trigger::type).containsExactly("kafka");
        assertThat(kafka.consumerGroup()).isEqualTo(KafkaNames.DEFAULTS.applicationIdOf(EnvelopeProtocol.DEFAULT_POOL));
        assertThat(kafka.topic()).as("every request topic of the group").isNull();
        assertThat(spec.maxReplicaCount()).as("a worker beyond a request topic's partitions would own none")
                .isEqualTo(KafkaNames.DEFAULT_PARTITIONS);
        assertThat(spec.minReplicaCount()).isPositive();
        assertThat(kafka.sasl()).isEqualTo("scram_sha512");
        assertThat(kafka.tls()).isEqualTo("enable");
        assertThat(Long.parseLong(kafka.lagThreshold())).isPositive();
    }

    @Test
    void kedaLogsInAsTheDescribeOnlyAutoscalerWithTheClustersCa() {
        Keda.TriggerAuthentication auth = one(Keda.TriggerAuthentication.class,
                scaledObject().spec().triggers().get(0).authenticationRef().name());
        Map<String, Keda.SecretTargetRef> refs = auth.spec().secretTargetRef().stream()
                .collect(Collectors.toMap(Keda.SecretTargetRef::parameter, r -> r));

        assertThat(refs.keySet()).isSubsetOf(Keda.SecretTargetRef.KAFKA_PARAMETERS).contains("username", "password", "ca");
        assertThat(refs.get("password").name()).isEqualTo(KafkaNames.DEFAULTS.autoscalerUser());
        assertThat(refs.get("ca").name() + "/" + refs.get("ca").key()).isEqualTo(caSecret() + "/ca.crt");
        assertThat(generatedSecretLiteral(refs.get("username").name(), refs.get("username").key()))
                .isEqualTo(KafkaNames.DEFAULTS.autoscalerUser());
    }

    // --- the overlays

    private static final String KATA_KERNEL_PARAMS = "io.katacontainers.config.hypervisor.kernel_params";

    @Test
    void eachOverlayRunsBothServicesUnderItsConfidentialRuntimeClassAndTee() throws IOException {
        for (String tee : OVERLAYS) {
            Path overlay = kubernetes.resolve("overlays").resolve(tee);
            Map<String, Object> k = yaml(overlay.resolve("kustomization.yaml"));
            assertThat(k.get("resources")).as(tee).isEqualTo(List.of("../../base"));
            List<Document> patches = new ArrayList<>();
            for (Object patch : (List<?>) k.get("patches")) {
                Path f = overlay.resolve((String) ((Map<?, ?>) patch).get("path"));
                patches.addAll(StrictManifests.read(f.toString(), Files.readString(f)));
            }
            Deployment w = patches.stream().map(Document::typed).filter(Deployment.class::isInstance)
                    .map(Deployment.class::cast).findFirst().orElseThrow();
            StatefulSet b = patches.stream().map(Document::typed).filter(StatefulSet.class::isInstance)
                    .map(StatefulSet.class::cast).findFirst().orElseThrow();
            assertThat(w.getMetadata().getName()).isEqualTo(worker().getMetadata().getName());
            assertThat(b.getMetadata().getName()).isEqualTo("sealstream-key-broker");
            assertThat(w.getSpec().getTemplate().getSpec().getRuntimeClassName()).isEqualTo("kata-qemu-" + tee);
            assertThat(b.getSpec().getTemplate().getSpec().getRuntimeClassName()).isEqualTo("kata-qemu-" + tee);
            // inside a Kata pod evidence comes from the guest's attestation agent, whose API the kernel parameter turns on
            assertThat(env(w.getSpec().getTemplate().getSpec()).get(WorkerSettings.SCHEMA.envName(WorkerSettings.TEE)))
                    .isEqualTo("coco-" + tee);
            assertThat(env(b.getSpec().getTemplate().getSpec()).get(KeyBrokerSettings.SCHEMA.envName(KeyBrokerSettings.TEE)))
                    .isEqualTo("coco-" + tee);
            for (var template : List.of(w.getSpec().getTemplate(), b.getSpec().getTemplate())) {
                assertThat(template.getMetadata().getAnnotations()).as(tee)
                        .containsEntry(KATA_KERNEL_PARAMS, "agent.guest_components_rest_api=attestation");
            }
            Map<String, String> workerEnv = new HashMap<>(env(worker().getSpec().getTemplate().getSpec()));
            workerEnv.putAll(env(w.getSpec().getTemplate().getSpec()));
            assertThat(WorkerSettings.SCHEMA.load(base.resolve("worker.properties"), workerEnv, Map.of())
                    .choice(WorkerSettings.TEE, TeeSelection.CHOICES.toArray(String[]::new))).isEqualTo("coco-" + tee);
        }
    }

    @Test
    void eachOverlayRendersWithKustomizeIntoObjectsThatFitTheirSchemas() throws Exception {
        Optional<Path> kubectl = Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
                .map(d -> Path.of(d, "kubectl")).filter(Files::isExecutable).findFirst();
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not on PATH: the overlays were checked as patches, "
                + "not rendered (install kubectl to render them with its kustomize)");
        for (String tee : OVERLAYS) {
            Process p = new ProcessBuilder(kubectl.get().toString(), "kustomize",
                    kubernetes.resolve("overlays").resolve(tee).toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            List<Document> rendered = StrictManifests.read("kustomize overlays/" + tee, out);
            Deployment w = rendered.stream().map(Document::typed).filter(Deployment.class::isInstance)
                    .map(Deployment.class::cast).findFirst().orElseThrow();
            PodSpec pod = w.getSpec().getTemplate().getSpec();
            assertThat(pod.getRuntimeClassName()).isEqualTo("kata-qemu-" + tee);
            String configMap = pod.getVolumes().stream().filter(v -> v.getConfigMap() != null).findFirst().orElseThrow()
                    .getConfigMap().getName();
            assertThat(rendered).as("the generated, hash-named config map is the one mounted")
                    .anySatisfy(d -> assertThat(d.kind() + "/" + d.name()).isEqualTo("ConfigMap/" + configMap));
            assertThat(env(pod)).containsKeys(WorkerSettings.SCHEMA.envName(WorkerSettings.WORKER_ID),
                    WorkerSettings.SCHEMA.envName(WorkerSettings.TEE));
        }
    }

    // --- helpers

    private static ServiceSettings workerSettings() {
        return WorkerSettings.SCHEMA.load(base.resolve("worker.properties"),
                env(worker().getSpec().getTemplate().getSpec()), Map.of());
    }

    private static ServiceSettings keyBrokerSettings() {
        return KeyBrokerSettings.SCHEMA.load(base.resolve("key-broker.properties"),
                env(one(StatefulSet.class, "sealstream-key-broker").getSpec().getTemplate().getSpec()), Map.of());
    }

    /** A pod's environment; a value from the downward API stands in as the first pod's name. */
    private static Map<String, String> env(PodSpec pod) {
        Map<String, String> env = new HashMap<>();
        for (EnvVar v : container(pod).getEnv()) {
            env.put(v.getName(), v.getValue() != null ? v.getValue() : "sealstream-worker-0");
        }
        return env;
    }

    private static Deployment worker() {
        return one(Deployment.class, "sealstream-worker");
    }

    private static Keda.ScaledObject scaledObject() {
        return one(Keda.ScaledObject.class, "sealstream-worker");
    }

    private static KafkaTopic dlqTopic() {
        return resources.stream().map(Document::typed).filter(KafkaTopic.class::isInstance).map(KafkaTopic.class::cast)
                .filter(t -> t.getSpec().getTopicName().equals(KafkaNames.DEFAULTS.dlqTopic())).findFirst().orElseThrow();
    }

    private static KafkaUser kafkaUser(String name) {
        return one(KafkaUser.class, name);
    }

    private static String cluster() {
        return kafkaUser(KafkaNames.DEFAULTS.workerUser()).getMetadata().getLabels().get("strimzi.io/cluster");
    }

    /** The Strimzi cluster CA's Secret, as the worker mounts it. */
    private static String caSecret() {
        return cluster() + "-cluster-ca-cert";
    }

    private static <T> T one(Class<T> type, String name) {
        List<T> found = resources.stream().filter(d -> type.isInstance(d.typed()) && d.name().equals(name))
                .map(d -> type.cast(d.typed())).toList();
        assertThat(found).as("%s %s", type.getSimpleName(), name).hasSize(1);
        return found.get(0);
    }

    private static List<PodTemplateSpec> templates() {
        return List.of(worker().getSpec().getTemplate(), one(StatefulSet.class, "sealstream-key-broker").getSpec().getTemplate());
    }

    private static Container container(PodSpec pod) {
        assertThat(pod.getContainers()).hasSize(1);
        return pod.getContainers().get(0);
    }

    private static String configArgument(Container c) {
        List<String> args = c.getArgs();
        return args.get(args.indexOf("--config") + 1);
    }

    private static int namedPort(Container c, String name) {
        return c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst().orElseThrow().getContainerPort();
    }

    private static String probe(Probe probe, String port) {
        assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo(port);
        return probe.getHttpGet().getPath();
    }

    private static String port(NetworkPolicyPort p) {
        return p.getProtocol() + "/" + p.getPort().getIntVal();
    }

    private static Optional<VolumeMount> mountOf(Container c, String path) {
        return c.getVolumeMounts().stream().filter(m -> path.startsWith(m.getMountPath() + "/") || path.equals(m.getMountPath()))
                .findFirst();
    }

    /** What backs {@code path} in the pod: "secret NAME key KEY", "configMap NAME" or "emptyDir". */
    private static String source(PodSpec pod, String path) {
        VolumeMount mount = mountOf(container(pod), path).orElseThrow(() -> new AssertionError(path + " is on no mount"));
        Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(mount.getName())).findFirst().orElseThrow();
        String within = path.substring(mount.getMountPath().length()).replaceFirst("^/", "");
        if (v.getSecret() != null) {
            assertThat(mount.getReadOnly()).as(path).isTrue();
            String key = v.getSecret().getItems().stream().filter(i -> i.getPath().equals(within)).findFirst()
                    .orElseThrow(() -> new AssertionError(path + " is no item of secret " + v.getSecret().getSecretName()))
                    .getKey();
            return "secret " + v.getSecret().getSecretName() + " key " + key;
        }
        if (v.getConfigMap() != null) {
            assertThat(mount.getReadOnly()).as(path).isTrue();
            String fileName = Path.of(path).getFileName().toString();
            assertThat(generatedConfigMapFiles(v.getConfigMap().getName())).as(path).contains(fileName);
            return "configMap " + v.getConfigMap().getName();
        }
        if (v.getEmptyDir() != null) {
            return "emptyDir";
        }
        return "volume " + v.getName();
    }

    /** The files a configMapGenerator of the base puts in {@code name}; the owner's ConfigMaps are the docs'. */
    @SuppressWarnings("unchecked")
    private static Set<String> generatedConfigMapFiles(String name) {
        for (Map<String, Object> g : (List<Map<String, Object>>) kustomization.getOrDefault("configMapGenerator", List.of())) {
            if (name.equals(g.get("name"))) {
                return new TreeSet<>((List<String>) g.get("files"));
            }
        }
        return Set.of("policy.yaml"); // sealstream-policy, which the owner creates (docs/deployment.md)
    }

    @SuppressWarnings("unchecked")
    private static String generatedSecretLiteral(String name, String key) {
        for (Map<String, Object> g : (List<Map<String, Object>>) kustomization.getOrDefault("secretGenerator", List.of())) {
            if (name.equals(g.get("name"))) {
                Map<String, Object> options = (Map<String, Object>) g.getOrDefault("options", Map.of());
                assertThat(options.get("disableNameSuffixHash")).as("KEDA finds %s by its plain name", name).isEqualTo(true);
                return ((List<String>) g.get("literals")).stream().filter(l -> l.startsWith(key + "="))
                        .map(l -> l.substring(key.length() + 1)).findFirst().orElseThrow();
            }
        }
        throw new AssertionError("no secretGenerator makes " + name);
    }

    private static List<AclBinding> bindingsOf(KafkaUser user) {
        String principal = AclTable.principal(user.getMetadata().getName());
        List<AclBinding> out = new ArrayList<>();
        for (AclRule rule : ((KafkaUserAuthorizationSimple) user.getSpec().getAuthorization()).getAcls()) {
            assertThat(rule.getType().toValue()).isEqualTo("allow");
            var r = rule.getResource();
            ResourceType type = switch (r.getType()) {
                case "topic" -> ResourceType.TOPIC;
                case "group" -> ResourceType.GROUP;
                case "transactionalId" -> ResourceType.TRANSACTIONAL_ID;
                case "cluster" -> ResourceType.CLUSTER;
                default -> throw new AssertionError("resource type " + r.getType());
            };
            String name = "kafka-cluster";
            Object patternType = null;
            if (r instanceof AclRuleTopicResource t) {
                name = t.getName();
                patternType = t.getPatternType();
            } else if (r instanceof AclRuleGroupResource g) {
                name = g.getName();
                patternType = g.getPatternType();
            } else if (r instanceof AclRuleTransactionalIdResource t) {
                name = t.getName();
                patternType = t.getPatternType();
            }
            PatternType pattern = patternType == null || patternType.toString().equalsIgnoreCase("literal")
                    ? PatternType.LITERAL : PatternType.PREFIXED;
            for (var op : rule.getOperations()) {
                out.add(new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, rule.getHost(),
                        AclOperation.fromString(op.toValue().replaceAll("([a-z])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT)),
                        AclPermissionType.ALLOW)));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> yaml(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
            options.setAllowDuplicateKeys(false);
            return new Yaml(options).load(r);
        }
    }
}
