package io.sealstream.client.batch;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * An OpenAI Batch input file (JSON Lines), read as a stream so that files of any length are
 * validated and sent in bounded memory: only the custom_ids are kept, to find duplicates. Blank
 * lines are skipped. Every non-blank line is classified the same way by every pass: a
 * {@link BatchLine} when it parses and its custom_id is the first use of that id in the file
 * (invalid lines count as uses), else an {@link InvalidLine}, whose custom_id is kept only when
 * this line is that id's first use, so no id can be written twice.
 */
public final class BatchInput {
    /** Invalid lines reported one by one; beyond this only their count. */
    public static final int MAX_REPORTED = 100;
    /** Longest line read; a longer one is invalid (and not held in memory). */
    public static final int MAX_LINE_BYTES = 16 << 20;

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
     * @param sha256 SHA-256 of the file's bytes, hex: with the output path it identifies the job
     */
    public record Validation(long lines, long valid, long invalidCount, List<InvalidLine> invalid, String sha256) {
        public boolean allValid() {
            return invalidCount == 0;
        }

        /** Lines a job answers: the valid ones, plus the invalid ones when they are skipped into the errors file. */
        long total(boolean skipInvalid) {
            return skipInvalid ? lines : valid;
        }
    }

    /** Reads every line, checks it and the uniqueness of its custom_id; sends nothing. */
    public Validation validate() {
        List<InvalidLine> invalid = new ArrayList<>();
        long[] counts = new long[3]; // lines, valid, invalid
        MessageDigest sha = sha256();
        classify(sha, () -> false, parsed -> {
            counts[0]++;
            if (parsed instanceof InvalidLine bad) {
                counts[2]++;
                if (invalid.size() < MAX_REPORTED) {
                    invalid.add(bad);
                }
            } else {
                counts[1]++;
            }
        });
        return new Validation(counts[0], counts[1], counts[2], List.copyOf(invalid), HexFormat.of().formatHex(sha.digest()));
    }

    /** Calls {@code action} with each valid line in file order, until {@code stop} says so. */
    public void forEachValid(BooleanSupplier stop, Consumer<BatchLine> action) {
        classify(null, stop, parsed -> {
            if (parsed instanceof BatchLine line) {
                action.accept(line);
            }
        });
    }

    /** Calls {@code action} with each invalid line in file order. */
    public void forEachInvalid(Consumer<InvalidLine> action) {
        classify(null, () -> false, parsed -> {
            if (parsed instanceof InvalidLine bad) {
                action.accept(bad);
            }
        });
    }

    private void classify(MessageDigest sha, BooleanSupplier stop, Consumer<Object> action) {
        Set<String> ids = new HashSet<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long number = 0;
            boolean tooLong = false;
            boolean eof = false;
            while (!eof && !stop.getAsBoolean()) {
                int b = in.read();
                if (b >= 0 && sha != null) {
                    sha.update((byte) b);
                }
                if (b >= 0 && b != '\n') {
                    if (line.size() < MAX_LINE_BYTES) {
                        line.write(b);
                    } else {
                        tooLong = true;
                    }
                    continue;
                }
                eof = b < 0;
                if (eof && line.size() == 0 && !tooLong) {
                    break;
                }
                number++;
                Object parsed = parse(number, line.toByteArray(), tooLong);
                line.reset();
                tooLong = false;
                if (parsed == null) {
                    continue; // blank
                }
                if (parsed instanceof BatchLine ok && !ids.add(ok.customId())) {
                    parsed = new InvalidLine(number, null, "custom_id '" + ok.customId()
                            + "' is used by an earlier line; custom_ids must be unique");
                } else if (parsed instanceof InvalidLine bad && bad.customId() != null && !ids.add(bad.customId())) {
                    parsed = new InvalidLine(number, null, bad.reason() + "; its custom_id '" + bad.customId()
                            + "' is also used by an earlier line");
                }
                action.accept(parsed);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read batch input " + file, e);
        }
    }

    /** The parsed line, an {@link InvalidLine}, or null for a blank line. */
    private static Object parse(long number, byte[] bytes, boolean tooLong) {
        if (tooLong) {
            return new InvalidLine(number, null, "the line is longer than " + MAX_LINE_BYTES + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return new InvalidLine(number, null, "the line is not valid UTF-8");
        }
        if (text.endsWith("\r")) {
            text = text.substring(0, text.length() - 1);
        }
        return text.isBlank() ? null : BatchLineParser.parse(number, text);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
