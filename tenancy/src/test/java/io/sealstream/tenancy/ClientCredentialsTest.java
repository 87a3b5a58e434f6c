package io.sealstream.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may read a credentials file for it to be trusted. */
class ClientCredentialsTest {

    @Test
    void anOwnerOnlyFileIsTrusted() {
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("rw-------"), false, false)).isEmpty();
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("r--------"), false, false)).isEmpty();
    }

    @Test
    void aKubernetesSecretMountedWithThePodsFsGroupIsTrusted() {
        // root:<fsGroup> 0440 on a read-only mount: the only way a non-root pod can read a Secret
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("r--r-----"), true, true)).isEmpty();
    }

    @Test
    void groupReadOnAWritableFileSystemIsRefused() {
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("rw-r-----"), false, true)).isPresent();
    }

    @Test
    void groupReadByAGroupThisProcessIsNotInIsRefused() {
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("r--r-----"), true, false)).isPresent();
    }

    @Test
    void groupWriteIsRefusedEvenOnAReadOnlyMountOfOurGroup() {
        assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString("r--rw----"), true, true)).isPresent();
    }

    @Test
    void anyAccessByOthersIsRefused() {
        for (String p : new String[] {"r-----r--", "rw-r--r--", "r--r---w-", "r-------x"}) {
            assertThat(ClientCredentials.refusal(PosixFilePermissions.fromString(p), true, true)).as(p).isPresent();
        }
    }

    @Test
    void aGroupReadableFileOnThisWritableDiskIsRefusedWithWhatToDo(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("group.credentials");
        ClientCredentials.generate("tenant").write(file);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));

        assertThatThrownBy(() -> ClientCredentials.read(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chmod 600").hasMessageContaining("fsGroup").hasMessageNotContaining("password=");
    }

    @Test
    void anOwnerOnlyFileReadsBackWhatWasWritten(@TempDir Path dir) {
        Path file = dir.resolve("own.credentials");
        ClientCredentials written = ClientCredentials.generate("tenant");
        written.write(file);

        assertThat(ClientCredentials.read(file)).isEqualTo(written);
    }

    /** A Strimzi KafkaUser Secret's 'password' key, mounted as a file: the password and a line break at most. */
    private static Path passwordFile(Path dir, String content, String perms) throws Exception {
        Path file = dir.resolve("password");
        Files.writeString(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
        return file;
    }

    @Test
    void aSecretsPasswordKeyMountedAsAFileGivesTheCredentials(@TempDir Path dir) throws Exception {
        assertThat(ClientCredentials.withPasswordFile("sealstream-worker", passwordFile(dir, "Zm9vYmFy", "r--------")))
                .isEqualTo(new ClientCredentials("sealstream-worker", "Zm9vYmFy"));
    }

    @Test
    void oneTrailingLineBreakIsNotPartOfThePassword(@TempDir Path dir) throws Exception {
        assertThat(ClientCredentials.withPasswordFile("w", passwordFile(dir, "Zm9vYmFy\n", "rw-------")).password())
                .isEqualTo("Zm9vYmFy");
    }

    @Test
    void aPasswordFileOthersMayReadIsRefusedWithoutReadingIt(@TempDir Path dir) throws Exception {
        Path file = passwordFile(dir, "Zm9vYmFy", "rw-r--r--");

        assertThatThrownBy(() -> ClientCredentials.withPasswordFile("w", file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("password file").hasMessageContaining("chmod 600").hasMessageNotContaining("Zm9vYmFy");
    }

    @Test
    void aPasswordFileWithMoreThanOneLineIsRefusedWithoutEchoingIt(@TempDir Path dir) throws Exception {
        Path file = passwordFile(dir, "username=w\npassword=Zm9vYmFy\n", "rw-------");

        assertThatThrownBy(() -> ClientCredentials.withPasswordFile("w", file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one line").hasMessageNotContaining("Zm9vYmFy");
    }

    @Test
    void anEmptyPasswordFileIsRefused(@TempDir Path dir) throws Exception {
        Path file = passwordFile(dir, "\n", "rw-------");

        assertThatThrownBy(() -> ClientCredentials.withPasswordFile("w", file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("password alone");
    }
}
