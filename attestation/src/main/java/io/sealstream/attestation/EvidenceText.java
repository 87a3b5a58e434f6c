package io.sealstream.attestation;

/**
 * Text taken from evidence (certificate names, field names) before it goes into a message: the
 * evidence's author chose it, and messages reach HTTP answers, logs and other people's consoles.
 */
public final class EvidenceText {
    private static final int MAX = 160;

    private EvidenceText() {
    }

    /** {@code s} with control and non-ASCII characters replaced by '?', cut to 160 characters. */
    public static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(Math.min(s.length(), MAX + 3));
        for (int i = 0; i < s.length() && b.length() < MAX; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7F ? c : '?');
        }
        return s.length() > MAX ? b + "..." : b.toString();
    }
}
