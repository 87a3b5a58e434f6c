package io.sealstream.attestation.snp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A TCB_VERSION: the security patch levels of the platform's components, packed in 8 bytes.
 * Milan and Genoa: byte 0 bootloader, 1 TEE, 6 SNP firmware, 7 microcode. Turin adds FMC and moves
 * the others: byte 0 FMC, 1 bootloader, 2 TEE, 3 SNP, 7 microcode.
 */
public record TcbVersion(long raw) {

    static TcbVersion of(long raw) {
        return new TcbVersion(raw);
    }

    /** A Milan/Genoa-layout TCB from its components. */
    public static TcbVersion milan(int bootloader, int tee, int snp, int microcode) {
        return new TcbVersion((bootloader & 0xFFL) | (tee & 0xFFL) << 8 | (snp & 0xFFL) << 48 | (microcode & 0xFFL) << 56);
    }

    private int at(int index) {
        return (int) ((raw >>> (8 * index)) & 0xFF);
    }

    /** The components by name for {@code turin} or Milan/Genoa layout. */
    public Map<String, Integer> components(boolean turin) {
        Map<String, Integer> m = new LinkedHashMap<>();
        if (turin) {
            m.put("fmc", at(0));
            m.put("bootloader", at(1));
            m.put("tee", at(2));
            m.put("snp", at(3));
        } else {
            m.put("bootloader", at(0));
            m.put("tee", at(1));
            m.put("snp", at(6));
        }
        m.put("microcode", at(7));
        return m;
    }

    @Override
    public String toString() {
        return String.format("%016x", Long.reverseBytes(raw));
    }
}
