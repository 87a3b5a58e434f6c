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
            + "(or set " + TOKEN_ENV + "); required off loopback.")
    Path tokenFile;

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
        try {
            address = parseListen(listen);
            token = token();
        } catch (IllegalArgumentException | IOException e) {
            err.println("sealstream proxy: " + e.getMessage());
            return 2;
        }
        if (!address.getAddress().isLoopbackAddress() && token == null) {
            err.println("sealstream proxy: " + listen + " is reachable from other machines; give a bearer token "
                    + "(--token-file or " + TOKEN_ENV + ") or listen on 127.0.0.1");
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
                     .maxInFlight(maxInFlight).maxBodyBytes(maxBodyMib << 20).build()) {
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
            out.printf("serving the OpenAI API at %s%s; Ctrl-C stops it%n", proxy.baseUrl(),
                    token == null ? "" : " (bearer token required)");
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
                proxy.close();
                out.println("stopped; requests in flight were answered");
            } finally {
                released.countDown();
            }
            return 0;
        }
    }

    private String token() throws IOException {
        String t = null;
        if (tokenFile != null) {
            t = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        } else if (System.getenv(TOKEN_ENV) != null) {
            t = System.getenv(TOKEN_ENV).strip();
        }
        if (t != null && t.length() < 16) {
            throw new IllegalArgumentException("the bearer token has fewer than 16 characters; use a long random one "
                    + "(e.g. openssl rand -hex 32)");
        }
        return t;
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
