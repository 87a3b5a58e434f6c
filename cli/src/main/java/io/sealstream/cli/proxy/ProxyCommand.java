package io.sealstream.cli.proxy;

import io.sealstream.client.AttestationFailedException;
import io.sealstream.client.ConnectionFile;
import io.sealstream.client.PolicyMismatchException;
import io.sealstream.client.SealstreamClient;
import io.sealstream.client.SealstreamException;
import io.sealstream.client.VerifiedTopic;
import io.sealstream.proxy.OpenAiProxy;
import io.sealstream.service.ServiceLogging;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sealstream proxy}: an OpenAI-compatible endpoint on this machine for applications in any
 * language. It verifies the key broker under the connection file's pins before it listens.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Serve the OpenAI API on this machine; every request is sealed for attested workers.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:stopped by a signal after finishing the requests in flight",
                "2:bad options (a non-loopback address needs a token)", "3:the key broker did not verify",
                "4:the address could not be bound"})
public final class ProxyCommand implements Callable<Integer> {
    /** Where the token may come from instead of a file; never from the command line, which others can list. */
    public static final String TOKEN_ENV = "SEALSTREAM_PROXY_TOKEN";

    @Option(names = "--connection", required = true, description = "Connection file ('sealstream up' or 'clients add' writes one).")
    Path connection;

    @Option(names = "--listen", defaultValue = "127.0.0.1:8080", description = "HOST:PORT to listen on (default ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--token-file", description = "File holding the bearer token every request must carry "
            + "(or set " + TOKEN_ENV + "); default: ~/.sealstream/proxy.token, made on first start, owner-only.")
    Path tokenFile;

    @Option(names = "--no-token", description = "Serve every program of every user on this machine without a token "
            + "(loopback only).")
    boolean noToken;

    @Option(names = "--state-dir", description = "Batch API files, batches and journals (default ~/.sealstream/proxy).")
    Path stateDir;

    @Option(names = "--request-timeout-s", defaultValue = "60", description = "Per-request timeout; then 504 (default ${DEFAULT-VALUE}).")
    long requestTimeoutSeconds;

    @Option(names = "--max-in-flight", defaultValue = "1024", description = "Requests awaiting answers at most; then 429 (default ${DEFAULT-VALUE}).")
    int maxInFlight;

    @Option(names = "--max-body-mib", defaultValue = "8", description = "Largest request body; then 413 (default ${DEFAULT-VALUE}).")
    int maxBodyMib;

    @Option(names = "--log-file", description = "Access and client log (default ~/.sealstream/proxy.log).")
    Path logFile;

    @Option(names = "--log-console", description = "Log to standard error instead of a file.")
    boolean logConsole;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        PrintStream err = System.err;
        InetSocketAddress address;
        String token;
        Path home = Path.of(System.getProperty("user.home"), ".sealstream");
        try {
            address = parseListen(listen);
            if (requestTimeoutSeconds < 1 || requestTimeoutSeconds > 3600 || maxInFlight < 1 || maxInFlight > 100_000
                    || maxBodyMib < 1 || maxBodyMib > 1024) {
                throw new IllegalArgumentException("--request-timeout-s takes 1 to 3600, --max-in-flight 1 to 100000, "
                        + "--max-body-mib 1 to 1024");
            }
            if (noToken && !address.getAddress().isLoopbackAddress()) {
                throw new IllegalArgumentException(listen + " is reachable from other machines; --no-token is for "
                        + "loopback only");
            }
            token = noToken ? null : token(home.resolve("proxy.token"));
        } catch (IllegalArgumentException | IOException e) {
            err.println("sealstream proxy: " + e.getMessage());
            return 2;
        }
        if (logConsole) {
            ServiceLogging.console(ServiceLogging.Format.TEXT);
        } else {
            Path log = logFile != null ? logFile : Path.of(System.getProperty("user.home"), ".sealstream", "proxy.log");
            Files.createDirectories(log.toAbsolutePath().getParent());
            ServiceLogging.toFile(log);
        }
        ConnectionFile conn = ConnectionFile.read(connection);
        Duration timeout = Duration.ofSeconds(requestTimeoutSeconds);
        try (SealstreamClient client = conn.clientBuilder().requestTimeout(timeout).build();
             OpenAiProxy proxy = OpenAiProxy.builder(client).listen(address).bearerToken(token).requestTimeout(timeout)
                     .maxInFlight(maxInFlight).maxBodyBytes(maxBodyMib << 20)
                     .stateDirectory(stateDir != null ? stateDir : home.resolve("proxy")).build()) {
            VerifiedTopic verified;
            try {
                verified = proxy.start();
            } catch (AttestationFailedException | PolicyMismatchException e) {
                err.println("sealstream proxy: the key broker did not verify, so nothing is served: " + e.getMessage());
                return 3;
            } catch (SealstreamException e) {
                err.println("sealstream proxy: the key broker could not be checked, so nothing is served: "
                        + e.getMessage());
                return 3;
            } catch (IOException e) {
                err.println("sealstream proxy: cannot listen on " + listen + " (" + e.getMessage()
                        + "); choose another --listen");
                return 4;
            }
            out.printf("key broker verified: %s evidence%s, measurement %s, policy %s ('%s')%n",
                    verified.brokerClaims().tee().name().toLowerCase(java.util.Locale.ROOT),
                    verified.brokerClaims().simulated() ? " (simulated, development root)" : "",
                    verified.brokerClaims().measurementHex(), verified.policy().id(), verified.policy().name());
            out.printf("serving the OpenAI API at %s%s; Ctrl-C stops it%n", proxy.baseUrl(), token == null
                    ? " to every local program (no token)" : " (bearer token: " + tokenSource + ")");
            out.flush();
            CountDownLatch stopped = new CountDownLatch(1);
            CountDownLatch released = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopped.countDown();
                try {
                    released.await(); // the JVM waits until requests in flight are answered
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "sealstream-proxy-stop"));
            try {
                stopped.await();
                int dropped = proxy.stop();
                out.println(dropped == 0 ? "stopped; every request in flight was answered"
                        : "stopped; " + dropped + " requests in flight got 503 proxy_closing instead of their answer");
            } finally {
                released.countDown();
            }
            return 0;
        }
    }

    /** Where the token came from, for the console. */
    private String tokenSource;

    /**
     * The token: from --token-file, else the environment, else the default file, made with a random
     * token on first start. A file others may read is refused: it is the key to this user's client.
     */
    private String token(Path defaultFile) throws IOException {
        String t;
        if (tokenFile != null) {
            t = readOwnerOnly(tokenFile);
            tokenSource = tokenFile.toString();
        } else if (System.getenv(TOKEN_ENV) != null) {
            t = System.getenv(TOKEN_ENV).strip();
            tokenSource = "$" + TOKEN_ENV;
        } else {
            if (!Files.exists(defaultFile)) {
                Files.createDirectories(defaultFile.toAbsolutePath().getParent());
                byte[] random = new byte[32];
                new java.security.SecureRandom().nextBytes(random);
                Path tmp = Files.createTempFile(defaultFile.toAbsolutePath().getParent(), "proxy", ".token",
                        java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, java.util.HexFormat.of().formatHex(random) + "\n");
                Files.move(tmp, defaultFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            t = readOwnerOnly(defaultFile);
            tokenSource = defaultFile.toString();
        }
        if (t.length() < 16) {
            throw new IllegalArgumentException("the bearer token has fewer than 16 characters; use a long random one "
                    + "(e.g. openssl rand -hex 32)");
        }
        return t;
    }

    private static String readOwnerOnly(Path file) throws IOException {
        try {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
                throw new IllegalArgumentException(file + " can be read by other users; chmod 600 it first");
            }
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system
        }
        return Files.readString(file, StandardCharsets.UTF_8).strip();
    }

    /** {@code HOST:PORT}, {@code [V6]:PORT} or {@code PORT}; the host must be a literal address. */
    static InetSocketAddress parseListen(String value) throws IOException {
        int colon = value.lastIndexOf(':');
        String host = colon < 0 ? "127.0.0.1" : value.substring(0, colon);
        String port = colon < 0 ? value : value.substring(colon + 1);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+:[0-9a-fA-F:.]*|localhost")) {
            throw new IllegalArgumentException("--listen " + value + ": give HOST:PORT with a literal address, "
                    + "e.g. 127.0.0.1:8080");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen " + value + ": the port is not a number");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("--listen " + value + ": the port must be 0 to 65535");
        }
        InetAddress a = host.equals("localhost") ? InetAddress.getLoopbackAddress() : InetAddress.getByName(host);
        return new InetSocketAddress(a, p);
    }
}
