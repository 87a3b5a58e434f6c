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

    /** Whether this process runs with group {@code gid}, as its own group or a supplementary one. */
    private static boolean processInGroup(long gid) {
        com.sun.security.auth.module.UnixSystem me = new com.sun.security.auth.module.UnixSystem();
        return me.getGid() == gid || java.util.Arrays.stream(me.getGroups() == null ? new long[0] : me.getGroups())
                .anyMatch(g -> g == gid);
    }

    /**
     * Why a credentials file with {@code perms} may not be trusted, or empty if it may: only its
     * owner may read it, with one exception. A Kubernetes Secret cannot be mounted owner-only for a
     * non-root pod: with {@code fsGroup} its files are {@code root:<fsGroup>} 0440 on a read-only
     * mount. So group read is accepted on a read-only file system when the group is one of this
     * process's, and never group write or any access by others.
     *
     * @param readOnlyMount whether the file lies on a read-only file system
     * @param groupIsOurs whether the file's group is this process's group or one of its supplementary groups
     */
    static java.util.Optional<String> refusal(Set<PosixFilePermission> perms, boolean readOnlyMount, boolean groupIsOurs) {
        Set<PosixFilePermission> loose = java.util.EnumSet.noneOf(PosixFilePermission.class);
        loose.addAll(perms);
        loose.removeAll(OWNER_ONLY);
        if (loose.isEmpty()) {
            return java.util.Optional.empty();
        }
        if (loose.equals(Set.of(PosixFilePermission.GROUP_READ)) && readOnlyMount && groupIsOurs) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("may be read by others (" + PosixFilePermissions.toString(perms)
                + "); run 'chmod 600' on it and try again (in Kubernetes: mount it from a Secret with the pod's "
                + "fsGroup, which gives read-only group access to this process's group alone)");
    }

    /**
     * Reads a file {@link #write} wrote.
     *
     * @throws IllegalArgumentException if anyone but its owner may read it ({@link #refusal}), or it is incomplete
     */
    public static ClientCredentials read(Path file) {
        try {
            refuseLoose(file, "credentials file");
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
            String user = p.getProperty(USERNAME, "");
            String pass = p.getProperty(PASSWORD, "");
            if (user.isBlank() || pass.isBlank()) {
                throw new IllegalArgumentException("the credentials file " + file
                        + " lacks a username or password; use the file the provisioning command wrote ('sealstream "
                        + "clients add' for a client, 'sealstream workers provision' for the services)");
            }
            return new ClientCredentials(user, pass);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the credentials file " + file + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null || e.getMessage().equals(file.toString()) ? "" : ": " + e.getMessage())
                    + "); check the path and that this process's user may read it", e);
        }
    }

    /**
     * {@code username} with the password that is the whole content of {@code passwordFile} (one
     * trailing line break dropped): the shape of a Strimzi {@code KafkaUser} Secret's
     * {@code password} key mounted as a file. The same permission rule as {@link #read} applies.
     *
     * @throws IllegalArgumentException if others may read the file, or it is empty or holds more than one line
     */
    public static ClientCredentials withPasswordFile(String username, Path passwordFile) {
        try {
            refuseLoose(passwordFile, "password file");
            String text = Files.readString(passwordFile, StandardCharsets.UTF_8);
            String password = text.endsWith("\r\n") ? text.substring(0, text.length() - 2)
                    : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            if (password.isBlank() || password.contains("\n")) {
                throw new IllegalArgumentException("the password file " + passwordFile + " must hold the password "
                        + "alone, on one line (a Strimzi KafkaUser Secret's 'password' key)");
            }
            return new ClientCredentials(username, password);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the password file " + passwordFile + " ("
                    + e.getClass().getSimpleName() + "); check the path and the Secret's mount", e);
        }
    }

    private static void refuseLoose(Path file, String what) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        boolean groupRead = perms.contains(PosixFilePermission.GROUP_READ);
        java.util.Optional<String> refused = refusal(perms, groupRead && Files.getFileStore(file).isReadOnly(),
                groupRead && processInGroup((Integer) Files.getAttribute(file, "unix:gid")));
        if (refused.isPresent()) {
            throw new IllegalArgumentException("the " + what + " " + file + " " + refused.get());
        }
    }

    @Override
    public String toString() {
        return "ClientCredentials[" + username + ", password redacted]";
    }
}
