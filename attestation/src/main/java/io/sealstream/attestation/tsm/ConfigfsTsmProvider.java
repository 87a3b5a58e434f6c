package io.sealstream.attestation.tsm;

import io.sealstream.attestation.AttestationException;
import io.sealstream.attestation.AttestationFailure;
import io.sealstream.attestation.Evidence;
import io.sealstream.attestation.EvidenceProvider;
import io.sealstream.attestation.ReportDataBinding;
import io.sealstream.attestation.TeeType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Evidence from the Linux configfs-tsm interface, which covers SEV-SNP and TDX guests alike: make
 * an entry under {@code /sys/kernel/config/tsm/report}, write the 64-byte report_data to
 * {@code inblob}, read {@code outblob} (the SNP report or TDX quote), {@code auxblob} (SNP: the
 * certificate table with VCEK, ASK, ARK), {@code provider} and {@code generation}, remove the
 * entry. A generation that moved by more than our own write means another writer raced us on the
 * entry; the report is then requested again.
 */
public final class ConfigfsTsmProvider implements EvidenceProvider {
    /** Where the kernel exposes configfs-tsm reports. */
    public static final Path DEFAULT_ROOT = Paths.get("/sys/kernel/config/tsm/report");
    private static final int ATTEMPTS = 3;
    // SEV-SNP certificate table GUIDs (GHCB specification, extended guest request)
    private static final String GUID_VCEK = "63da758d-e664-4564-adc5-f4b93be8accd";
    private static final String GUID_VLEK = "a8074bc2-a25a-483e-aae6-39c045a0b8a1";
    private static final String GUID_ASK = "4ab7b379-bbac-4fe4-a02f-05aef327c782";
    private static final String GUID_ARK = "c0b406a4-a803-4952-9743-3fb6014cd0ae";

    private final Path root;
    private final TeeType tee;
    private final Supplier<String> entryNames;

    private ConfigfsTsmProvider(Path root, TeeType tee, Supplier<String> entryNames) {
        this.root = root;
        this.tee = tee;
        this.entryNames = entryNames;
    }

    /** A provider on {@code root} with unique entry names; the TEE type comes from the kernel's provider file. */
    public static ConfigfsTsmProvider open(Path root) throws AttestationException {
        return open(root, () -> "sealstream-" + UUID.randomUUID());
    }

    /**
     * As {@link #open(Path)} with entry names from {@code entryNames} (tests pass fixed names). A
     * probe entry is made and removed to read {@code provider}: {@code sev_guest} or {@code tdx_guest}.
     */
    public static ConfigfsTsmProvider open(Path root, Supplier<String> entryNames) throws AttestationException {
        if (!Files.isDirectory(root)) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, root + " does not exist: this is not "
                    + "an SEV-SNP or TDX guest with configfs-tsm (Linux 6.7 or later, configfs mounted)");
        }
        Path probe = root.resolve(entryNames.get());
        try {
            Files.createDirectories(probe);
            String provider = Files.readString(probe.resolve("provider"), StandardCharsets.US_ASCII).trim();
            TeeType tee = switch (provider) {
                case "sev_guest" -> TeeType.SNP;
                case "tdx_guest" -> TeeType.TDX;
                default -> throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE,
                        "configfs-tsm provider '" + provider + "' is neither sev_guest nor tdx_guest");
            };
            return new ConfigfsTsmProvider(root, tee, entryNames);
        } catch (IOException e) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "cannot use configfs-tsm under "
                    + root + " (" + e.getClass().getSimpleName() + "); the worker needs write access to it");
        } finally {
            removeQuietly(probe);
        }
    }

    @Override
    public TeeType tee() {
        return tee;
    }

    @Override
    public Evidence attest(byte[] reportData) throws AttestationException {
        if (reportData.length != ReportDataBinding.LENGTH) {
            throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE,
                    "report_data must be " + ReportDataBinding.LENGTH + " bytes, got " + reportData.length);
        }
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Path entry = root.resolve(entryNames.get());
            try {
                Files.createDirectories(entry);
                long before = generation(entry);
                Files.write(entry.resolve("inblob"), reportData);
                byte[] out = Files.readAllBytes(entry.resolve("outblob"));
                long after = generation(entry);
                if (after > before + 1) {
                    continue;
                }
                Path aux = entry.resolve("auxblob");
                List<byte[]> certs = tee == TeeType.SNP && Files.exists(aux)
                        ? snpCertificates(Files.readAllBytes(aux)) : List.of();
                return new Evidence(tee, out, certs);
            } catch (IOException e) {
                throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "the configfs-tsm report under "
                        + entry + " failed (" + e.getClass().getSimpleName() + ")");
            } finally {
                removeQuietly(entry);
            }
        }
        throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "another writer changed the "
                + "configfs-tsm entry " + ATTEMPTS + " times in a row; retry");
    }

    private static long generation(Path entry) throws IOException {
        Path g = entry.resolve("generation");
        return Files.exists(g) ? Long.parseLong(Files.readString(g).trim()) : 0;
    }

    /**
     * Parses the SEV-SNP certificate table in {@code auxblob}: entries of GUID (16 bytes), offset and
     * length (4 bytes each, little-endian), ending with an all-zero entry. Returns the VCEK (or
     * VLEK), ASK and ARK, in that order, as far as present.
     */
    static List<byte[]> snpCertificates(byte[] table) throws AttestationException {
        byte[] leaf = null;
        byte[] ask = null;
        byte[] ark = null;
        for (int at = 0; at + 24 <= table.length; at += 24) {
            ByteBuffer b = ByteBuffer.wrap(table, at + 16, 8).order(ByteOrder.LITTLE_ENDIAN);
            int offset = b.getInt();
            int length = b.getInt();
            boolean terminator = offset == 0 && length == 0
                    && Arrays.equals(Arrays.copyOfRange(table, at, at + 16), new byte[16]);
            if (terminator) {
                break;
            }
            String guid = guid(table, at);
            if (offset < 0 || length < 0 || (long) offset + length > table.length) {
                throw new AttestationException(AttestationFailure.MALFORMED_EVIDENCE, "certificate table entry "
                        + guid + " points outside the auxblob");
            }
            byte[] der = Arrays.copyOfRange(table, offset, offset + length);
            switch (guid) {
                case GUID_VCEK, GUID_VLEK -> leaf = der;
                case GUID_ASK -> ask = der;
                case GUID_ARK -> ark = der;
                default -> { } // other certificates (e.g. the platform owner's) are not part of the chain
            }
        }
        List<byte[]> out = new ArrayList<>();
        for (byte[] c : new byte[][] {leaf, ask, ark}) {
            if (c != null) {
                out.add(c);
            }
        }
        return out;
    }

    /** The GUID at {@code at} as text; its first three fields are stored little-endian. */
    static String guid(byte[] t, int at) {
        ByteBuffer b = ByteBuffer.wrap(t, at, 8).order(ByteOrder.LITTLE_ENDIAN);
        StringBuilder s = new StringBuilder(String.format("%08x-%04x-%04x-", b.getInt(), b.getShort() & 0xFFFF,
                b.getShort() & 0xFFFF));
        for (int i = 8; i < 16; i++) {
            if (i == 10) {
                s.append('-');
            }
            s.append(String.format("%02x", t[at + i]));
        }
        return s.toString();
    }

    /** The certificate table layout, for the dev tooling and tests that play the kernel. */
    static byte[] snpCertificateTable(byte[] vcek, byte[] ask, byte[] ark) {
        byte[][] certs = {vcek, ask, ark};
        String[] guids = {GUID_VCEK, GUID_ASK, GUID_ARK};
        int header = 24 * (certs.length + 1);
        ByteBuffer out = ByteBuffer.allocate(header + vcek.length + ask.length + ark.length).order(ByteOrder.LITTLE_ENDIAN);
        int offset = header;
        for (int i = 0; i < certs.length; i++) {
            UUID u = UUID.fromString(guids[i]);
            long msb = u.getMostSignificantBits();
            out.putInt((int) (msb >>> 32)).putShort((short) (msb >>> 16)).putShort((short) msb);
            out.order(ByteOrder.BIG_ENDIAN).putLong(u.getLeastSignificantBits()).order(ByteOrder.LITTLE_ENDIAN);
            out.putInt(offset).putInt(certs[i].length);
            offset += certs[i].length;
        }
        out.position(header);
        for (byte[] c : certs) {
            out.put(c);
        }
        return out.array();
    }

    private static void removeQuietly(Path entry) {
        try (var files = Files.list(entry)) {
            // the real configfs removes its attribute files on rmdir; a plain directory needs them deleted
            for (Path f : (Iterable<Path>) files::iterator) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // a configfs attribute: rmdir takes it
                }
            }
        } catch (IOException e) {
            // the entry is gone already
        }
        try {
            Files.deleteIfExists(entry);
        } catch (IOException e) {
            // the name is unique; a leftover entry does no harm
        }
    }

    @Override
    public String toString() {
        return "ConfigfsTsmProvider[" + root + ", " + tee.id() + "]";
    }
}
