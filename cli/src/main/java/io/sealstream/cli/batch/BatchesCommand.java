package io.sealstream.cli.batch;

import io.sealstream.client.batch.BatchJournal;
import io.sealstream.client.batch.BatchStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sealstream batches}: the local journal of batch jobs. */
@Command(name = "batches", mixinStandardHelpOptions = true, description = "Batch jobs in the local journal.",
        subcommands = {BatchesCommand.Status.class, BatchesCommand.ListJobs.class})
public final class BatchesCommand {
    private static Path root(Path journalDir) {
        return journalDir != null ? journalDir : Path.of(System.getProperty("user.home"), ".sealstream", "batches");
    }

    /** {@code sealstream batches status JOB}. */
    @Command(name = "status", mixinStandardHelpOptions = true, description = "Lifecycle and counts of one job.")
    static final class Status implements Callable<Integer> {
        @Parameters(index = "0", description = "The job id that submit printed (batch_...).")
        String job;

        @Option(names = "--journal-dir", description = "Job journals (default ~/.sealstream/batches).")
        Path journalDir;

        @Override
        public Integer call() {
            var entry = BatchJournal.of(root(journalDir), job).read();
            if (entry.isEmpty()) {
                System.err.println("no batch job " + job + " in " + root(journalDir));
                return 2;
            }
            BatchJournal.Entry e = entry.get();
            String status = e.status();
            if (e.lifecycle() == BatchStatus.IN_PROGRESS && !e.running()) {
                status += " (no process is running it: run the same submit command to resume)";
            }
            System.out.println("id          " + e.id());
            System.out.println("status      " + status);
            System.out.println("input       " + e.input());
            System.out.println("output      " + e.output());
            System.out.println("errors      " + e.errors());
            System.out.printf("counts      total %d, completed %d, failed %d, invalid %d%n", e.lines(), e.completed(),
                    e.failed(), e.invalid());
            System.out.println("created_at  " + e.createdAt());
            System.out.println("updated_at  " + e.updatedAt());
            if (e.reason() != null) {
                System.out.println("reason      " + e.reason());
            }
            return 0;
        }
    }

    /** {@code sealstream batches list}. */
    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every job in the journal.")
    static final class ListJobs implements Callable<Integer> {
        @Option(names = "--journal-dir", description = "Job journals (default ~/.sealstream/batches).")
        Path journalDir;

        @Override
        public Integer call() throws Exception {
            Path root = root(journalDir);
            if (!Files.isDirectory(root)) {
                System.out.println("no batch jobs in " + root);
                return 0;
            }
            try (Stream<Path> dirs = Files.list(root)) {
                dirs.sorted().forEach(d -> BatchJournal.of(root, d.getFileName().toString()).read().ifPresent(e ->
                        System.out.printf("%s  %-11s %d/%d  %s%n", e.id(), e.status(), e.completed() + e.failed(),
                                e.lines(), e.input())));
            }
            return 0;
        }
    }
}
