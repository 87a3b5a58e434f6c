package io.sealstream.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.devstack.kafka.KafkaClusterFiles;
import io.sealstream.keybroker.KeyBrokerSettings;
import io.sealstream.service.Setting;
import io.sealstream.service.SettingsSchema;
import io.sealstream.worker.WorkerSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * docker/compose.yaml, its .env and the images' Dockerfiles agree with the code: the files the
 * services read are the ones {@code sealstream compose init} writes, and those files are settings
 * each service accepts; every service is hardened the same way; every image is pinned.
 */
class ComposeFileTest {
    private static final Pattern DIGEST = Pattern.compile("@sha256:[0-9a-f]{64}$");
    private static final Pattern DEPLOY_PATH = Pattern.compile("/deploy(/[A-Za-z0-9._/-]*)?");
    private static final List<String> SEALSTREAM_SERVICES = List.of("registry", "provision", "key-broker", "worker-1",
            "worker-2");

    @TempDir
    static Path written;
    static Path docker;
    static Map<String, Map<String, Object>> services;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void writeAndParse() throws IOException {
        ComposeFiles.write(written);
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isRegularFile(dir.resolve("docker/compose.yaml"))) {
            dir = dir.getParent();
        }
        docker = dir.resolve("docker");
        try (Reader r = Files.newBufferedReader(docker.resolve("compose.yaml"), StandardCharsets.UTF_8)) {
            org.yaml.snakeyaml.LoaderOptions options = new org.yaml.snakeyaml.LoaderOptions();
            options.setAllowDuplicateKeys(false); // compose would take the last of two; a reader of the file, the first
            Map<String, Object> compose = new Yaml(options).load(r);
            services = (Map<String, Map<String, Object>>) compose.get("services");
        }
    }

    @Test
    void theWorkerConfigIsAcceptedByTheWorkerWithTheIdEachServiceSets() {
        for (String worker : List.of("worker-1", "worker-2")) {
            Map<String, String> env = environment(worker);
            var settings = WorkerSettings.SCHEMA.load(written.resolve(ComposeFiles.WORKER_CONFIG), env, Map.of());
            assertThat(settings.string(WorkerSettings.WORKER_ID)).isEqualTo(worker);
            assertThat(settings.string(WorkerSettings.HEALTH_ADDRESS)).isEqualTo("0.0.0.0");
        }
    }

    @Test
    void theKeyBrokerConfigIsAcceptedByTheKeyBrokerAndListensOnItsContainersAddress() {
        var settings = KeyBrokerSettings.SCHEMA.load(written.resolve(ComposeFiles.KEY_BROKER_CONFIG),
                environment("key-broker"), Map.of());
        assertThat(settings.string(KeyBrokerSettings.BIND_ADDRESS)).isEqualTo("0.0.0.0");
        assertThat(settings.string(KeyBrokerSettings.PORT)).isEqualTo(Integer.toString(ComposeFiles.KEY_BROKER_PORT));
        assertThat(ComposeFiles.KEY_BROKER_URL).endsWith(":" + ComposeFiles.KEY_BROKER_PORT);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theKeyBrokerAuditsToTheClusterWithTheCredentialsTheProvisioningJobWritesForIt() {
        var settings = KeyBrokerSettings.SCHEMA.load(written.resolve(ComposeFiles.KEY_BROKER_CONFIG),
                environment("key-broker"), Map.of());
        List<String> provision = (List<String>) services.get("provision").get("command");
        String keyBrokerOut = provision.get(provision.indexOf("--key-broker-out") + 1);

        assertThat(settings.string(KeyBrokerSettings.AUDIT_SINK)).isEqualTo("kafka");
        assertThat(settings.string(KeyBrokerSettings.KAFKA.bootstrapServers())).as("the workers' cluster").isEqualTo(
                WorkerSettings.SCHEMA.load(written.resolve(ComposeFiles.WORKER_CONFIG), environment("worker-1"), Map.of())
                        .string(WorkerSettings.KAFKA.bootstrapServers()));
        assertThat(settings.string(KeyBrokerSettings.KAFKA.credentialsFile())).isEqualTo(keyBrokerOut + "/key-broker.credentials");
        assertThat(keyBrokerOut).isEqualTo(ComposeFiles.MOUNT + "/" + ComposeFiles.KEY_BROKER_PROVISIONED)
                .as("never the workers' directory").isNotEqualTo(provision.get(provision.indexOf("--out") + 1));
        assertThat(settings.string(KeyBrokerSettings.REGISTRY_URL)).isEqualTo(ComposeFiles.REGISTRY_URL);
    }

    @Test
    void eachKafkaNodeAdvertisesItsServiceNameAndKnowsEveryVoter() throws IOException {
        for (int id = 1; id <= ComposeFiles.KAFKA_HOSTS.size(); id++) {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(written.resolve("kafka").resolve(KafkaClusterFiles.nodeFile(id)))) {
                p.load(r);
            }
            String host = ComposeFiles.KAFKA_HOSTS.get(id - 1);
            assertThat(services).containsKey(host);
            assertThat(services.get(host).get("hostname")).isEqualTo(host);
            assertThat(p.getProperty("advertised.listeners")).isEqualTo("BROKER://" + host + ":" + ComposeFiles.KAFKA_PORT);
            assertThat(p.getProperty("controller.quorum.voters")).isEqualTo("1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093");
            assertThat(p.getProperty("log.dirs")).isEqualTo(ComposeFiles.KAFKA_DATA);
            assertThat(p.getProperty("min.insync.replicas")).isEqualTo("2");
            assertThat(p.getProperty("listener.security.protocol.map")).isEqualTo("BROKER:SASL_SSL,CONTROLLER:SSL");
            assertThat(services.get(host).get("command")).isEqualTo(List.of("/deploy/kafka/" + KafkaClusterFiles.nodeFile(id)));
            assertThat(written.resolve(ComposeFiles.DATA).resolve(host).resolve("meta.properties"))
                    .as("formatted by compose init, so no password is on a command line").exists();
        }
    }

    @Test
    void eachServiceMountsOnlyWhatItNeeds() {
        Map<String, Set<String>> allowed = Map.of(
                "kafka-1", Set.of("/deploy/kafka:ro", "/var/lib/kafka/data"),
                "registry", Set.of(),
                "provision", Set.of("/deploy/admin", "/deploy/provisioned", "/deploy/provisioned-key-broker",
                        "/deploy/simulated-tee:ro"),
                "key-broker", Set.of("/deploy/key-broker:ro", "/deploy/provisioned-key-broker:ro", "/deploy/simulated-tee:ro",
                        "/var/lib/sealstream/key-broker"),
                "worker-1", Set.of("/deploy/worker:ro", "/deploy/provisioned:ro", "/deploy/simulated-tee:ro"));
        allowed.forEach((service, targets) -> assertThat(mounts(service).values()).as(service)
                .containsExactlyInAnyOrderElementsOf(targets));
        for (String host : ComposeFiles.KAFKA_HOSTS) {
            assertThat(mounts(host).values()).as(host).containsExactlyInAnyOrder("/deploy/kafka:ro", "/var/lib/kafka/data");
        }
        assertThat(mounts("worker-2")).isEqualTo(mounts("worker-1"));
    }

    @Test
    void everyMountedDirectoryIsOneComposeInitWrote() {
        for (String service : services.keySet()) {
            for (String source : mounts(service).keySet()) {
                assertThat(source).as(service).startsWith("${SEALSTREAM_DEPLOY_DIR:-./deploy}/");
                assertThat(written.resolve(source.substring("${SEALSTREAM_DEPLOY_DIR:-./deploy}/".length())))
                        .as("%s mounts %s", service, source).isDirectory();
            }
        }
    }

    @Test
    void nothingIsPublishedBeyondLoopbackAndNoServiceIsPrivileged() {
        for (var e : services.entrySet()) {
            Map<String, Object> s = e.getValue();
            assertThat(s).as(e.getKey()).doesNotContainKeys("privileged", "cap_add", "network_mode", "pid", "ipc", "devices");
            Object ports = s.get("ports");
            if (ports != null) {
                for (Object port : (List<?>) ports) {
                    assertThat(String.valueOf(port)).as(e.getKey()).startsWith("127.0.0.1:");
                }
            }
        }
    }

    @Test
    void everyFileUnderDeployThatComposeOrTheConfigsNameIsOneComposeInitWrites() throws IOException {
        Set<String> named = new TreeSet<>();
        for (Map<String, Object> service : services.values()) {
            collectDeployPaths(service.get("command"), named);
            collectDeployPaths(service.get("volumes"), named);
        }
        for (String config : List.of(ComposeFiles.WORKER_CONFIG, ComposeFiles.KEY_BROKER_CONFIG, ComposeFiles.ADMIN_CONNECTION)) {
            collectDeployPaths(Files.readString(written.resolve(config)).replace("\\:", ":"), named);
        }
        // the provisioning job's
        named.remove(ComposeFiles.MOUNT + "/" + ComposeFiles.PROVISIONED + "/worker.credentials");
        named.remove(ComposeFiles.MOUNT + "/" + ComposeFiles.KEY_BROKER_PROVISIONED + "/key-broker.credentials");
        assertThat(named).isNotEmpty();
        for (String path : named) {
            Path local = written.resolve(path.substring(ComposeFiles.MOUNT.length()).replaceFirst("^/", ""));
            assertThat(local).as("%s, named by compose.yaml or a config file", path).exists();
        }
    }

    @Test
    void composeInitRefusesADirectoryThatHoldsADeployment() {
        assertThatThrownBy(() -> ComposeFiles.write(written)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already holds");
    }

    @Test
    void environmentVariablesOfTheWorkersAndTheKeyBrokerAreTheirSettings() {
        assertThat(environment("worker-1").keySet()).isSubsetOf(envNames(WorkerSettings.SCHEMA, WorkerSettings.class));
        assertThat(environment("key-broker").keySet()).isSubsetOf(envNames(KeyBrokerSettings.SCHEMA, KeyBrokerSettings.class));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyServiceRunsAsTheDeployDirectorysOwnerOnAReadOnlyRootWithoutCapabilities() {
        assertThat(services).containsKeys(SEALSTREAM_SERVICES.toArray(String[]::new));
        for (var e : services.entrySet()) {
            Map<String, Object> s = e.getValue();
            assertThat(s.get("user")).as(e.getKey()).isEqualTo("${SEALSTREAM_UID:-1000}:${SEALSTREAM_GID:-1000}");
            assertThat(s.get("read_only")).as(e.getKey()).isEqualTo(true);
            assertThat((List<Object>) s.get("cap_drop")).as(e.getKey()).containsExactly("ALL");
            assertThat((List<Object>) s.get("security_opt")).as(e.getKey()).contains("no-new-privileges:true");
        }
        assertThat(env().get("SEALSTREAM_UID")).isNotEqualTo("0");
    }

    @Test
    void theDefaultPartitionsAreTheDeploymentsOwnInComposeAndItsEnvFile() {
        assertThat(env().get("SEALSTREAM_PARTITIONS")).isEqualTo(Integer.toString(io.sealstream.tenancy.KafkaNames.DEFAULT_PARTITIONS));
        assertThat(String.valueOf(services.get("provision").get("command")))
                .contains("${SEALSTREAM_PARTITIONS:-" + io.sealstream.tenancy.KafkaNames.DEFAULT_PARTITIONS + "}");
    }

    @Test
    void theKafkaImageIsPinnedByDigestAndTheSameInComposeAndItsEnvFile() {
        String image = (String) services.get("kafka-1").get("image");
        String composeDefault = image.substring(image.indexOf(":-") + 2, image.length() - 1);
        assertThat(composeDefault).containsPattern(DIGEST).isEqualTo(env().get("KAFKA_IMAGE"));
    }

    @Test
    void everyImageBuiltHereStartsFromTheOnePinnedBaseRunsNonRootAndCopiesWhatItsModuleBuilds() throws IOException {
        Set<String> bases = new TreeSet<>();
        for (String name : SEALSTREAM_SERVICES) {
            @SuppressWarnings("unchecked")
            Map<String, Object> build = (Map<String, Object>) services.get(name).get("build");
            assertThat(build).as("%s is built from this repository", name).isNotNull();
            Path dockerfile = docker.getParent().resolve((String) build.get("dockerfile"));
            List<String> lines = Files.readAllLines(dockerfile);
            String base = lines.stream().filter(l -> l.startsWith("ARG BASE=")).findFirst().orElseThrow()
                    .substring("ARG BASE=".length());
            bases.add(base);
            assertThat(lines).as(dockerfile.toString()).contains("FROM ${BASE}");
            assertThat(lines.stream().filter(l -> l.startsWith("USER ")).toList()).as(dockerfile.toString())
                    .containsExactly("USER 65532:65532");
            for (String copy : lines.stream().filter(l -> l.startsWith("COPY ")).toList()) {
                String[] parts = copy.split("\\s+");
                String source = parts[parts.length - 2];
                String module = source.substring(0, source.indexOf('/'));
                assertThat(docker.getParent().resolve(module).resolve("pom.xml")).as(copy).exists();
                if (source.endsWith(".jar")) {
                    assertThat(source).as(copy).isEqualTo(module + "/target/" + finalName(module) + ".jar");
                    String target = parts[parts.length - 1];
                    assertThat(lines.stream().filter(l -> l.startsWith("ENTRYPOINT")).findFirst().orElseThrow())
                            .as(dockerfile.toString()).contains("\"" + target + "\"");
                }
            }
        }
        assertThat(bases).hasSize(1);
        assertThat(bases.iterator().next()).containsPattern(DIGEST);
    }

    private static String finalName(String module) throws IOException {
        Matcher m = Pattern.compile("<finalName>([^<]+)</finalName>").matcher(
                Files.readString(docker.getParent().resolve(module).resolve("pom.xml")));
        assertThat(m.find()).as("%s/pom.xml names its jar", module).isTrue();
        return m.group(1);
    }

    private static Set<String> envNames(SettingsSchema schema, Class<?> settings) {
        return Stream.of(settings.getFields()).filter(f -> f.getType() == Setting.class).map(f -> {
            try {
                return schema.envName((Setting) f.get(null));
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }).collect(Collectors.toSet());
    }

    /** A service's bind mounts: host source to container target (with :ro where read-only). */
    @SuppressWarnings("unchecked")
    private static Map<String, String> mounts(String service) {
        Object volumes = services.get(service).get("volumes");
        Map<String, String> m = new java.util.TreeMap<>();
        if (volumes != null) {
            for (Object v : (List<Object>) volumes) {
                String text = String.valueOf(v);
                int split = text.indexOf(':', text.indexOf('}') + 1);
                m.put(text.substring(0, split), text.substring(split + 1));
            }
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> environment(String service) {
        Object env = services.get(service).get("environment");
        return env == null ? Map.of() : ((Map<String, Object>) env).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> String.valueOf(e.getValue())));
    }

    private static Map<String, String> env() {
        try {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(docker.resolve(".env"))) {
                p.load(r);
            }
            return p.stringPropertyNames().stream().collect(Collectors.toMap(k -> k, p::getProperty));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void collectDeployPaths(Object node, Set<String> into) {
        if (node == null) {
            return;
        }
        List<String> texts = new ArrayList<>();
        if (node instanceof List<?> l) {
            l.forEach(o -> texts.add(String.valueOf(o)));
        } else {
            texts.add(String.valueOf(node));
        }
        for (String text : texts) {
            // a volume names the host side first: only what follows the mount point counts
            Matcher m = DEPLOY_PATH.matcher(text);
            while (m.find()) {
                String path = m.group().replaceAll("[:/]+$", "");
                char before = m.start() == 0 ? ' ' : text.charAt(m.start() - 1);
                if (before != ' ' && before != '=' && before != '"' && before != ':') {
                    continue;
                }
                into.add(path);
            }
        }
    }
}
