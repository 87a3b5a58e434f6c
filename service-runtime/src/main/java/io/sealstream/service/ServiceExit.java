package io.sealstream.service;

/**
 * Why a Sealstream service process stopped: its exit status. One list for every service, so an
 * orchestrator or an operator reads the same code the same way for the worker and the key broker
 * (docs/configuration.md, "Exit codes", is checked against it).
 */
public enum ServiceExit {
    STOPPED(0, "Stopped on SIGTERM or SIGINT after a graceful shutdown: work in progress was finished or left "
            + "uncommitted for another worker."),
    FAILED(1, "An unexpected error; the log has its stack trace. Report it."),
    CONFIG_INVALID(2, "The configuration is missing, unreadable or invalid; the message names the setting and what to give."),
    REFUSED(3, "The key broker refused this worker's attestation: its measurement, model or evidence is not what the policy admits."),
    NO_TEE(4, "No usable TEE: the configfs-tsm report interface is missing, or the simulated TEE was asked for and not found."),
    UNAVAILABLE(5, "Something it needs was not there at start: Kafka, the registry or the key broker did not answer, the "
            + "dead-letter topic is missing, or a port it must listen on is taken. Usually transient: a restart retries."),
    ENGINE_STALLED(6, "The inference engine hung on a batch; the worker answered the batch as failed, left its group and "
            + "stopped. Restart it; raise the transaction timeout if batches are legitimately that long."),
    STOP_INCOMPLETE(7, "A graceful shutdown did not finish in time. Nothing is lost: uncommitted work is replayed by the other workers."),
    CUSTODY_FAILED(8, "The key broker could not take its root secret: the peer replica refused or was unreachable, or the "
            + "custody record does not match the policy. The message says which.");

    private final int code;
    private final String meaning;

    ServiceExit(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** The exit with process status {@code code}, if it is one of these. */
    public static java.util.Optional<ServiceExit> ofCode(int code) {
        return java.util.Arrays.stream(values()).filter(e -> e.code == code).findFirst();
    }

    /** The table of docs/configuration.md. */
    public static String markdown() {
        StringBuilder b = new StringBuilder("| Exit code | Name | Meaning |\n|---|---|---|\n");
        for (ServiceExit e : values()) {
            b.append("| ").append(e.code).append(" | `").append(e.name().toLowerCase(java.util.Locale.ROOT))
                    .append("` | ").append(e.meaning).append(" |\n");
        }
        return b.toString().strip();
    }
}
