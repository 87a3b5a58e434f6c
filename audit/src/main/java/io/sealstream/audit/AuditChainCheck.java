package io.sealstream.audit;

import io.sealstream.schemas.v1.AuditEvent;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Checks the audit topic's chains, event by event in topic order: each producer's events must
 * start at sequence 0 with the genesis hash, follow each other without gaps, and each must carry
 * the hash of the one before. An event that does not is a break: an event deleted before it,
 * altered, inserted or moved. The check goes on from the breaking event (it becomes its chain's
 * tip), so one break, a real loss say, does not hide later tampering: every break is reported.
 */
public final class AuditChainCheck {
    /** Where a chain broke: the producer, the topic position and what is wrong there. */
    public record Break(String producer, long sequence, String position, String problem) {
    }

    /**
     * What was checked: events, each producer's last sequence, and the breaks (the first
     * {@link #KEPT_BREAKS} of {@code breakCount}).
     */
    public record Result(long events, Map<String, Long> lastSequences, java.util.List<Break> breaks, long breakCount) {
        public boolean intact() {
            return breakCount == 0;
        }

        public Optional<Break> firstBreak() {
            return breaks.stream().findFirst();
        }
    }

    /** Breaks kept for the report; more are only counted. */
    public static final int KEPT_BREAKS = 100;

    private record Tip(long sequence, byte[] hash) {
    }

    private final Map<String, Tip> tips = new LinkedHashMap<>();
    private long events;
    private final java.util.List<Break> breaks = new java.util.ArrayList<>();
    private long breakCount;

    /** Checks the next event of the topic, found at {@code position} (e.g. partition and offset). */
    public void accept(AuditEvent e, String position) {
        events++;
        String problem = problem(e);
        if (problem != null) {
            broke(new Break(e.getProducer(), e.getSequence(), position, problem));
        }
        tips.put(e.getProducer(), new Tip(e.getSequence(), AuditChain.hash(e)));
    }

    /** An event that is not an audit event at all (undecodable) is a break too. */
    public void acceptUnreadable(String position, String why) {
        events++;
        broke(new Break("(unknown)", -1, position, "the record is not an audit event (" + why + ")"));
    }

    private void broke(Break b) {
        breakCount++;
        if (breaks.size() < KEPT_BREAKS) {
            breaks.add(b);
        }
    }

    public Result result() {
        Map<String, Long> last = new LinkedHashMap<>();
        tips.forEach((p, t) -> last.put(p, t.sequence()));
        return new Result(events, Map.copyOf(last), java.util.List.copyOf(breaks), breakCount);
    }

    private String problem(AuditEvent e) {
        if (e.getVersion() != AuditChain.VERSION) {
            return "audit format version " + e.getVersion() + " is unknown to this checker";
        }
        byte[] previous = bytes(e.getPreviousHash());
        Tip tip = tips.get(e.getProducer());
        if (tip == null) {
            if (e.getSequence() != 0) {
                return "the producer's first event here has sequence " + e.getSequence()
                        + ": events 0 to " + (e.getSequence() - 1) + " are missing (deleted, or the topic's retention dropped them)";
            }
            return Arrays.equals(previous, AuditChain.GENESIS) ? null
                    : "sequence 0 names a previous event: the chain's start was replaced";
        }
        if (e.getSequence() > tip.sequence() + 1) {
            return "events " + (tip.sequence() + 1) + " to " + (e.getSequence() - 1) + " are missing (deleted or never written)";
        }
        if (e.getSequence() <= tip.sequence()) {
            return "sequence " + e.getSequence() + " follows sequence " + tip.sequence()
                    + " (an event repeated or moved)";
        }
        if (!Arrays.equals(previous, tip.hash())) {
            return "the event does not carry the hash of sequence " + tip.sequence()
                    + " (that event or this one was altered, or the chain forked)";
        }
        return null;
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }
}
