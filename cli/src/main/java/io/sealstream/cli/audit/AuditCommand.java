package io.sealstream.cli.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sealstream.audit.AuditChainCheck;
import io.sealstream.audit.AuditTopic;
import io.sealstream.client.ConnectionFile;
import io.sealstream.schemas.registry.SchemaRegistryClient;
import io.sealstream.tenancy.KafkaNames;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sealstream audit verify}: checks the audit topic's hash chains. */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "The audit topic's hash chains.",
        subcommands = AuditCommand.Verify.class)
public final class AuditCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Read the whole audit topic and check every producer's chain: no event missing, altered, "
                    + "inserted or moved. Prints the first break; exit 0 when every chain is intact, 1 otherwise.")
    static final class Verify implements Callable<Integer> {
        @Option(names = "--admin", required = true,
                description = "A connection file whose principal may read the audit topic ('sealstream up' writes "
                        + "DATA_DIR/admin.connection).")
        Path admin;

        @Option(names = "--topic", defaultValue = KafkaNames.AUDIT_TOPIC, description = "The audit topic (default ${DEFAULT-VALUE}).")
        String topic;

        @Option(names = "--format", defaultValue = "text", description = "text or json (default ${DEFAULT-VALUE}).")
        String format;

        @Override
        public Integer call() throws Exception {
            if (!format.equals("text") && !format.equals("json")) {
                System.err.println("sealstream audit verify: --format is text or json, not '" + format + "'");
                return 2;
            }
            ConnectionFile c = ConnectionFile.read(admin);
            Map<String, Object> kafka = new HashMap<>(c.kafkaSecurity().clientConfig());
            kafka.put("bootstrap.servers", c.bootstrapServers());
            AuditChainCheck.Result r = new AuditTopic(topic, kafka,
                    new SchemaRegistryClient(c.schemaRegistryUrl(), Duration.ofSeconds(10))).check();
            print(r, System.out);
            return r.intact() ? 0 : 1;
        }

        private void print(AuditChainCheck.Result r, PrintStream out) throws Exception {
            if (format.equals("json")) {
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("topic", topic);
                json.put("events", r.events());
                json.put("intact", r.intact());
                json.put("last_sequences", r.lastSequences());
                json.put("break_count", r.breakCount());
                json.put("breaks", r.breaks().stream().map(b -> Map.of("producer", b.producer(),
                        "sequence", b.sequence(), "position", b.position(), "problem", b.problem())).toList());
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
                return;
            }
            if (r.intact()) {
                out.printf("%s: %d events, every chain intact%n", topic, r.events());
            } else {
                AuditChainCheck.Break b = r.firstBreak().orElseThrow();
                out.printf("%s: BROKEN at %s, producer %s, sequence %d: %s%n", topic, b.position(), b.producer(),
                        b.sequence(), b.problem());
                r.breaks().stream().skip(1).limit(19).forEach(x -> out.printf("  and at %s, producer %s, sequence %d: %s%n",
                        x.position(), x.producer(), x.sequence(), x.problem()));
                out.printf("  %d events read, %d breaks; each chain's last sequence:%n", r.events(), r.breakCount());
            }
            r.lastSequences().forEach((p, s) -> out.printf("  %-32s last sequence %d%n", p, s));
        }
    }
}
