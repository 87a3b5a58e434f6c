package io.sealstream.tenancy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

/**
 * A Kafka SCRAM principal's name and password. Stored apart from the connection file, owner-only:
 * {@link #read} refuses a file that group or others may read, so a leaked connection file gives
 * addresses and pins but no way in.
 *
 * @param username the SCRAM user, which is the Kafka principal {@code User:<username>}
 * @param password the SCRAM password
 */
public record ClientCredentials(String username, String password) {
    private static final String USERNAME = "username";
    private static final String PASSWORD = "password";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    public ClientCredentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        if (username.isBlank() || password.isBlank()) {
            throw new IllegalArgumentException("credentials need a user name and a password");
        }
        // they end up inside a JAAS line between double quotes
        if ((username + password).chars().anyMatch(c -> c == '"' || c == '\\' || c < 0x20)) {
            throw new IllegalArgumentException("user names and passwords may not hold quotes, backslashes or control characters");
        }
    }

    /** {@code username} with a fresh random 256-bit password (hex). */
    public static ClientCredentials generate(String username) {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return new ClientCredentials(username, HexFormat.of().formatHex(b));
    }

    /** Writes a new owner-only file; an existing file is replaced. */
    public void write(Path file) {
        Properties p = new Properties();
        p.setProperty(USERNAME, username);
        p.setProperty(PASSWORD, password);
        try {
            Files.deleteIfExists(file);
            Files.createDirectories(file.toAbsolutePath().getParent());
            // created owner-only in one step and written through the same handle: no moment when the
            // file is readable by others, and a link planted at the name is refused, not followed
            try (Writer w = java.nio.channels.Channels.newWriter(Files.newByteChannel(file,
                    java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                    PosixFilePermissions.asFileAttribute(OWNER_ONLY)), StandardCharsets.UTF_8)) {
                p.store(w, "Sealstream Kafka credentials of " + username + "; keep owner-only");
            }
        } catch (UnsupportedOperationException e) {
            throw new IllegalStateException("cannot make " + file + " owner-only: its file system has no POSIX "
                    + "permissions; write credentials to a POSIX file system", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the credentials file " + file, e);
        }
    }

    /**
     * Reads a file {@link #write} wrote.
     *
     * @throws IllegalArgumentException if the file is readable by group or others, or incomplete
     */
    public static ClientCredentials read(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (!OWNER_ONLY.containsAll(perms)) {
                throw new IllegalArgumentException("the credentials file " + file + " may be read by others ("
                        + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "' and try again");
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
            String user = p.getProperty(USERNAME, "");
            String pass = p.getProperty(PASSWORD, "");
            if (user.isBlank() || pass.isBlank()) {
                throw new IllegalArgumentException("the credentials file " + file
                        + " lacks a username or password; ask the operator for the file 'sealstream clients add' wrote");
            }
            return new ClientCredentials(user, pass);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the credentials file " + file, e);
        }
    }

    @Override
    public String toString() {
        return "ClientCredentials[" + username + ", password redacted]";
    }
}
