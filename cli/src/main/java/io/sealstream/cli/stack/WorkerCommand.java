package io.sealstream.cli.stack;

import io.sealstream.worker.WorkerMain;
import io.sealstream.worker.WorkerSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code sealstream worker}: one TEE worker process, the same as the tee-worker module's own main
 * ({@link WorkerMain}). With {@code tee=simulated} it takes the development TEE that
 * {@code sealstream up} saved in its data directory, so a worker can run in its own JVM beside the
 * embedded stack (and be killed and replaced).
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Run one confidential worker until SIGTERM.",
                "Settings come from --config FILE, SEALSTREAM_WORKER_* variables and --set (docs/configuration.md); "
                        + "the exit code says why it stopped."})
public final class WorkerCommand implements Callable<Integer> {
    @Mixin
    ServiceOptions service;

    @Override
    public Integer call() {
        return service.launch(WorkerSettings.SCHEMA, WorkerMain::run);
    }
}
