package io.sealstream.cli.demo;

import java.util.ArrayList;
import java.util.List;

/** The demo's sample batch: short made-up sentences on a few themes, deterministic. */
final class SampleTexts {
    private static final String[] SUBJECTS = {
        "The patient", "Our contract", "The build server", "A customer", "The research team",
        "The quarterly report", "The new hire", "The data pipeline", "The support ticket", "The legal memo"};
    private static final String[] PREDICATES = {
        "reported mild chest pain after the procedure", "renews automatically unless cancelled in writing",
        "failed to compile the release branch overnight", "asked for a refund on the annual plan",
        "published results on protein folding", "shows revenue growth of eight percent",
        "starts onboarding on Monday morning", "drops records when the schema changes",
        "was escalated to the second support tier", "flags an indemnity clause for review"};

    /** Pairs whose similarity the demo prints: one close in meaning, one unrelated. */
    static final String[][] PAIRS = {
        {"The cat sits on the mat.", "A kitten is resting on a rug."},
        {"The cat sits on the mat.", "Quarterly revenue grew by eight percent."}};

    private SampleTexts() {
    }

    static List<String> batch(int n) {
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(SUBJECTS[i % SUBJECTS.length] + " " + PREDICATES[(i / SUBJECTS.length + i) % PREDICATES.length] + ".");
        }
        return out;
    }
}
