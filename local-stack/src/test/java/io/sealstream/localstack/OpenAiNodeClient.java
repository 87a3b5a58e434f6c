package io.sealstream.localstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The official {@code openai} package from the npm registry, run by this machine's Node.js: it is
 * installed on first use from the pinned lock file in src/test/node ({@code npm ci}), and the
 * scripts there run against a proxy. Where Node.js, npm or the registry is missing, the tests that
 * use it skip and say what to install.
 */
final class OpenAiNodeClient {
    static final Path DIR = Path.of("src", "test", "node").toAbsolutePath();

    private OpenAiNodeClient() {
    }

    /** Installs the package unless it is there; skips the calling test when it cannot be. */
    static void install() throws Exception {
        Assumptions.assumeTrue(found("node") && found("npm"), "Node.js and npm are not on the PATH: install them "
                + "(Debian: apt-get install nodejs npm) to run the OpenAI client library against the proxy");
        if (Files.isDirectory(DIR.resolve("node_modules").resolve("openai"))) {
            return;
        }
        Result r = run(List.of("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"), Map.of(), 300);
        Assumptions.assumeTrue(r.exit() == 0, "npm ci in " + DIR + " failed (is the npm registry reachable?): "
                + r.output().lines().reduce((a, b) -> b).orElse(""));
    }

    /** Runs {@code script} (in src/test/node) with {@code env}; its standard output, or a failure with both streams. */
    static String runScript(String script, Map<String, String> env) throws Exception {
        Result r = run(List.of("node", script), env, 300);
        if (r.exit() != 0) {
            throw new AssertionError("node " + script + " exited " + r.exit() + ":\n" + r.output());
        }
        return r.stdout();
    }

    private record Result(int exit, String stdout, String output) {
    }

    private static Result run(List<String> command, Map<String, String> env, long seconds) throws Exception {
        Path stderr = Files.createTempFile("node", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(DIR.toFile())
                    .redirectError(stderr.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " ran past " + seconds + " s");
            }
            return new Result(p.exitValue(), out, out + Files.readString(stderr));
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static boolean found(String program) {
        try {
            Process p = new ProcessBuilder(program, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
