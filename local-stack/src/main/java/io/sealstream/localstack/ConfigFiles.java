package io.sealstream.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Writes a service's config file as the services read it: Java properties, UTF-8, keys sorted. */
public final class ConfigFiles {
    private ConfigFiles() {
    }

    /** Writes {@code settings} to {@code file} (creating its directory), with {@code comment} on top. */
    public static Path write(Path file, String comment, Map<String, String> settings) {
        Properties p = new Properties();
        p.putAll(settings);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            java.io.StringWriter text = new java.io.StringWriter();
            p.store(text, comment);
            // store escapes line breaks, so each setting is one line: sorted, two files with the
            // same settings read the same
            List<String> lines = text.toString().lines().toList();
            List<String> sorted = new ArrayList<>(lines.stream().filter(l -> l.startsWith("#")).toList());
            lines.stream().filter(l -> !l.startsWith("#")).sorted().forEach(sorted::add);
            Files.writeString(file, String.join("\n", sorted) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }
}
