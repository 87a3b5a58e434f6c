package io.sealstream.client.batch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An OpenAI Batch input file (JSON Lines), read as a stream so that files of any length are
 * validated and sent in bounded memory: only the custom_ids are kept, to find duplicates. Blank
 * lines are skipped.
 */
public final class BatchInput {
    /** Invalid lines reported one by one; beyond this only their count. */
    public static final int MAX_REPORTED = 100;

    private final Path file;

    private BatchInput(Path file) {
        this.file = file;
    }

    public static BatchInput of(Path file) {
        return new BatchInput(file);
    }

    public Path file() {
        return file;
    }

    /**
     * The outcome of checking every line before anything is sent.
     *
     * @param lines non-blank lines
     * @param valid lines that can be sent
     * @param invalidCount lines that cannot
     * @param invalid the first {@value #MAX_REPORTED} of them, with their line numbers
     * @param sha256 SHA-256 of the file's lines (each followed by a newline), hex: with the output
     *     path it identifies the job
     */
    public record Validation(long lines, long valid, long invalidCount, List<InvalidLine> invalid, String sha256) {
        public boolean allValid() {
            return invalidCount == 0;
        }

        /** Lines a job answers: the valid ones, plus the invalid ones when they are skipped into the errors file. */
        long skipInvalidTotal(boolean skipInvalid) {
            return skipInvalid ? lines : valid;
        }
    }

    /** Reads every line, checks it and the uniqueness of its custom_id; sends nothing. */
    public Validation validate() {
        Set<String> ids = new HashSet<>();
        List<InvalidLine> invalid = new ArrayList<>();
        long[] counts = new long[3]; // lines, valid, invalid
        MessageDigest sha = sha256();
        each(sha, parsed -> {
            counts[0]++;
            if (parsed instanceof InvalidLine bad) {
                counts[2]++;
                if (invalid.size() < MAX_REPORTED) {
                    invalid.add(bad);
                }
            } else if (parsed instanceof BatchLine line && !ids.add(line.customId())) {
                counts[2]++;
                if (invalid.size() < MAX_REPORTED) {
                    invalid.add(new InvalidLine(line.lineNumber(), line.customId(), "custom_id '" + line.customId()
                            + "' is used by an earlier line; custom_ids must be unique"));
                }
            } else {
                counts[1]++;
            }
        });
        return new Validation(counts[0], counts[1], counts[2], List.copyOf(invalid), HexFormat.of().formatHex(sha.digest()));
    }

    /**
     * Calls {@code action} with each valid line, in file order. Lines with a custom_id already seen
     * are skipped (validation reported them).
     */
    public void forEachValid(Consumer<BatchLine> action) {
        Set<String> ids = new HashSet<>();
        each(null, parsed -> {
            if (parsed instanceof BatchLine line && ids.add(line.customId())) {
                action.accept(line);
            }
        });
    }

    private void each(MessageDigest sha, Consumer<Object> action) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            long number = 0;
            for (String text; (text = in.readLine()) != null; ) {
                number++;
                if (sha != null) {
                    sha.update(text.getBytes(StandardCharsets.UTF_8));
                    sha.update((byte) '\n');
                }
                if (!text.isBlank()) {
                    action.accept(BatchLineParser.parse(number, text));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read batch input " + file, e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
