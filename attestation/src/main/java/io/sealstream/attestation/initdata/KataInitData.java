package io.sealstream.attestation.initdata;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * A pod's init-data for Kata confidential containers (the confidential-containers "initdata"
 * document, version 0.1.0): a TOML file whose {@code [data]} table holds the files the guest gets
 * at launch, here the worker's or key broker's settings and the Kata agent policy. The runtime
 * puts its digest into the TEE's launch (SNP HOST_DATA, TDX MRCONFIGID), so the evidence says
 * which settings and agent policy the pod was started with, and the Sealstream policy pins that
 * digest. Immutable; the bytes are what is hashed, exactly as written out.
 */
public final class KataInitData {
    /** The digest algorithms the document may name. */
    public enum Algorithm {
        SHA256("sha256", "SHA-256"), SHA384("sha384", "SHA-384");

        private final String id;
        private final String jca;

        Algorithm(String id, String jca) {
            this.id = id;
            this.jca = jca;
        }

        public String id() {
            return id;
        }
    }

    private final Algorithm algorithm;
    private final byte[] toml;

    private KataInitData(Algorithm algorithm, byte[] toml) {
        this.algorithm = algorithm;
        this.toml = toml;
    }

    /**
     * The document holding {@code files} (name to UTF-8 content), in name order.
     *
     * @throws IllegalArgumentException for a name outside {@code [A-Za-z0-9._-]} or content that a
     *     TOML multi-line literal string cannot hold ({@code '''}, or a carriage return)
     */
    public static KataInitData of(Algorithm algorithm, Map<String, String> files) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("init-data holds at least one file");
        }
        StringBuilder b = new StringBuilder();
        b.append("algorithm = \"").append(algorithm.id()).append("\"\n");
        b.append("version = \"0.1.0\"\n\n[data]\n");
        for (Map.Entry<String, String> f : new TreeMap<>(files).entrySet()) {
            if (!f.getKey().matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("init-data file name '" + f.getKey() + "' is not 1 to 64 letters, digits, "
                        + "'.', '_' or '-'");
            }
            if (f.getValue().contains("'''") || f.getValue().indexOf('\r') >= 0) {
                throw new IllegalArgumentException("init-data file '" + f.getKey() + "' holds ''' or a carriage return, which "
                        + "a TOML literal string cannot carry");
            }
            // a newline right after ''' is not part of the string, so the content is kept as is
            b.append('"').append(f.getKey()).append("\" = '''\n").append(f.getValue()).append("'''\n");
        }
        return new KataInitData(algorithm, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The document's bytes, as hashed. */
    public byte[] toml() {
        return toml.clone();
    }

    /** The algorithm the document names. */
    public Algorithm algorithm() {
        return algorithm;
    }

    /** The document's digest with its own algorithm, lower-case hex. */
    public String digestHex() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm.jca).digest(toml));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The value of the pod annotation {@code io.katacontainers.config.runtime.cc_init_data}:
     * base64 of the gzip-compressed document (gzip's header carries no time, so it is reproducible).
     */
    public String annotation() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(toml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }
}
