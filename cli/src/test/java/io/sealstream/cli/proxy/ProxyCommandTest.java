package io.sealstream.cli.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sealstream.cli.CommandRun;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code sealstream proxy} refuses before it reads the connection or touches the network. */
class ProxyCommandTest {
    @TempDir
    Path dir;

    @Test
    void anAddressOtherMachinesReachCannotGoWithoutAToken() throws Exception {
        CommandRun r = CommandRun.of("proxy", "--connection", dir.resolve("absent.connection").toString(),
                "--listen", "0.0.0.0:0",
                "--no-token");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("reachable from other machines").contains("loopback only");
    }

    @Test
    void aTokenFileOtherUsersCanReadIsRefused() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "a-long-enough-token-0123456789\n");
        Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

        CommandRun r = CommandRun.of("proxy", "--connection", dir.resolve("absent.connection").toString(),
                "--token-file",
                token.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("can be read by other users");
    }

    @Test
    void aShortTokenIsRefused() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "short\n");
        Files.setPosixFilePermissions(token, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

        CommandRun r = CommandRun.of("proxy", "--connection", dir.resolve("absent.connection").toString(),
                "--token-file",
                token.toString());

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("fewer than 16 characters");
    }

    @Test
    void aHostNameIsRefusedAsAListenAddress() throws Exception {
        CommandRun r = CommandRun.of("proxy", "--connection", dir.resolve("absent.connection").toString(), "--listen",
                "proxy.example:8080");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("literal address");
    }

    @Test
    void listenTakesHostAndPortABracketedV6AddressOrAPortAlone() throws Exception {
        assertThat(ProxyCommand.parseListen("127.0.0.1:9000")).isEqualTo(new InetSocketAddress("127.0.0.1", 9000));
        assertThat(ProxyCommand.parseListen("[::1]:9000").getAddress().isLoopbackAddress()).isTrue();
        assertThat(ProxyCommand.parseListen("9000")).isEqualTo(new InetSocketAddress("127.0.0.1", 9000));
        assertThatThrownBy(() -> ProxyCommand.parseListen("127.0.0.1:99999")).hasMessageContaining("0 to 65535");
    }

}
