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
 * the hash of the one before. The first event that does not is the break: an event deleted
 * before it, altered, inserted or moved.
 */
public final class AuditChainCheck {
    /** Where a chain broke: the producer, the topic position and what is wrong there. */
    public record Break(String producer, long sequence, String position, String problem) {
    }

    /** What was checked: events, each producer's last sequence, and the first break, if any. */
    public record Result(long events, Map<String, Long> lastSequences, Optional<Break> firstBreak) {
        public boolean intact() {
            return firstBreak.isEmpty();
        }
    }

    private record Tip(long sequence, byte[] hash) {
    }

    private final Map<String, Tip> tips = new LinkedHashMap<>();
    private long events;
    private Break firstBreak;

    /** Checks the next event of the topic, found at {@code position} (e.g. partition and offset). */
    public void accept(AuditEvent e, String position) {
        events++;
        if (firstBreak != null) {
            return;
        }
        String problem = problem(e);
        if (problem != null) {
            firstBreak = new Break(e.getProducer(), e.getSequence(), position, problem);
            return;
        }
        tips.put(e.getProducer(), new Tip(e.getSequence(), AuditChain.hash(e)));
    }

    /** An event that is not an audit event at all (undecodable) is a break too. */
    public void acceptUnreadable(String position, String why) {
        events++;
        if (firstBreak == null) {
            firstBreak = new Break("(unknown)", -1, position, "the record is not an audit event (" + why + ")");
        }
    }

    public Result result() {
        Map<String, Long> last = new LinkedHashMap<>();
        tips.forEach((p, t) -> last.put(p, t.sequence()));
        return new Result(events, Map.copyOf(last), Optional.ofNullable(firstBreak));
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
