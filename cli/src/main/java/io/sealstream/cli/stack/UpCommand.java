package io.sealstream.cli.stack;

import io.sealstream.localstack.Engines;
import io.sealstream.localstack.LocalStack;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sealstream up}: the embedded stack on loopback until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
        description = "Start the embedded stack (Kafka, schema registry, key broker, workers) until Ctrl-C.")
public final class UpCommand implements Callable<Integer> {
    @Option(names = "--workers", defaultValue = "2", description = "Workers (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--partitions", defaultValue = "4", description = "Request topic partitions (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--client", defaultValue = "demo", split = ",", description = "Clients to provision (default ${DEFAULT-VALUE}).")
    List<String> clients;

    @Option(names = "--chat-model", description = "Also serve chat with this GGUF model, e.g. ../shared/models/stories260K.gguf.")
    java.nio.file.Path chatModel;

    @Option(names = "--verbose", description = "Log to the console instead of the log file in the data directory.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        StackDataDir dataDir = StackDataDir.create(verbose);
        out.println("Starting the embedded stack ... (log: " + dataDir.logDescription() + ")");
        LocalStack stack = LocalStack.start(new LocalStack.Options().workers(workers).partitions(partitions)
                .clients(clients).engine(Engines::defaultEmbeddings).chatModel(chatModel).dataDir(dataDir.dir()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping the stack ...");
            stack.close();
            dataDir.close();
            if (!verbose) {
                out.println("The log is kept at " + dataDir.logDescription());
            }
            stopped.countDown();
        }, "sealstream-up-shutdown"));
        if (!stack.awaitWorkersReady(Duration.ofSeconds(120))) {
            out.println("The workers did not become ready within 120 s; the log says why: " + dataDir.logDescription());
        }
        out.println("Sealstream is up (Ctrl-C stops it):");
        out.println("  kafka bootstrap     " + stack.kafka().bootstrapServers() + " (SASL_SSL, SCRAM-SHA-512, ACLs; CA "
                + stack.kafkaCaFile() + ")");
        out.println("  schema registry     " + stack.registry().url());
        out.println("  key broker          " + stack.keyBroker().url());
        out.println("  request topics      " + stack.requestTopicFamily() + ".<client> (" + partitions + " partitions each)");
        for (int i = 0; i < stack.workers().size(); i++) {
            out.println("  worker " + i + " health     " + stack.workers().get(i).healthUrl() + io.sealstream.worker.TeeWorker.READY_PATH);
        }
        java.nio.file.Path extra = stack.writeWorkerConfig("extra-1", chatModel == null ? java.util.Map.of()
                : java.util.Map.of(io.sealstream.worker.WorkerSettings.CHAT_MODEL.name(), chatModel.toAbsolutePath().toString()));
        out.println("  another worker      bin/sealstream worker --config " + extra);
        out.println("  pin, measurement    " + stack.trust().measurements().iterator().next());
        out.println("  pin, policy id      " + stack.policy().id());
        out.println("  data directory      " + stack.dataDir());
        out.println("  log                 " + dataDir.logDescription());
        java.nio.file.Path clientsDir = stack.dataDir().resolve("clients");
        java.nio.file.Files.createDirectories(clientsDir);
        for (String client : clients) {
            java.nio.file.Path connection = clientsDir.resolve(client + ".connection");
            stack.writeConnection(client, connection);
            out.println("  client " + client + " " + connection + "  (sealstream submit --connection ...)");
        }
        java.nio.file.Path admin = stack.dataDir().resolve("admin.connection");
        stack.writeAdminConnection(admin);
        out.println("  admin connection    " + admin + "  (sealstream clients add NAME --admin ...)");
        stopped.await();
        return 0;
    }
}
