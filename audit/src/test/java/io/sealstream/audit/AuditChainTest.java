package io.sealstream.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.sealstream.schemas.v1.AuditEvent;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AuditChainTest {
    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    @Test
    void anUntouchedChainIsIntact() {
        AuditChainCheck.Result r = check(chain("key-broker/a", 5));

        assertThat(r.intact()).isTrue();
        assertThat(r.events()).isEqualTo(5);
        assertThat(r.lastSequences()).containsEntry("key-broker/a", 4L);
    }

    @Test
    void aDeletedEventIsTheBreakAtTheEventAfterIt() {
        List<AuditEvent> events = chain("key-broker/a", 5);
        events.remove(2);

        AuditChainCheck.Break b = check(events).firstBreak().orElseThrow();

        assertThat(b.sequence()).isEqualTo(3);
        assertThat(b.position()).isEqualTo("#2");
        assertThat(b.problem()).contains("events 2 to 2 are missing");
    }

    @Test
    void twoSwappedEventsBreakTheChain() {
        List<AuditEvent> events = chain("key-broker/a", 5);
        events.add(1, events.remove(2));

        AuditChainCheck.Break b = check(events).firstBreak().orElseThrow();

        assertThat(b.sequence()).isEqualTo(2);
        assertThat(b.problem()).contains("events 1 to 1 are missing");
    }

    @Test
    void anAlteredEventIsFoundByTheEventThatFollowsIt() {
        List<AuditEvent> events = chain("key-broker/a", 5);
        Map<String, String> forged = new LinkedHashMap<>(events.get(1).getAttributes());
        forged.put("code", "none");
        events.set(1, AuditEvent.newBuilder(events.get(1)).setAttributes(forged).build());

        AuditChainCheck.Break b = check(events).firstBreak().orElseThrow();

        assertThat(b.sequence()).isEqualTo(2);
        assertThat(b.problem()).contains("does not carry the hash of sequence 1");
    }

    @Test
    void aRepeatedEventBreaksTheChain() {
        List<AuditEvent> events = chain("key-broker/a", 3);
        events.add(events.get(1));

        assertThat(check(events).firstBreak().orElseThrow().problem()).contains("sequence 1 follows sequence 2");
    }

    @Test
    void aChainWhoseStartWasDeletedIsBrokenAtItsFirstEvent() {
        List<AuditEvent> events = chain("key-broker/a", 4);
        events.subList(0, 2).clear();

        AuditChainCheck.Break b = check(events).firstBreak().orElseThrow();

        assertThat(b.sequence()).isEqualTo(2);
        assertThat(b.problem()).contains("events 0 to 1 are missing");
    }

    @Test
    void aBreakDoesNotHideLaterTamperingEveryBreakIsReported() {
        List<AuditEvent> events = chain("key-broker/a", 6);
        events.remove(1); // a loss early on
        Map<String, String> forged = new LinkedHashMap<>(events.get(2).getAttributes());
        forged.put("code", "none");
        events.set(2, AuditEvent.newBuilder(events.get(2)).setAttributes(forged).build()); // sequence 3 altered later

        AuditChainCheck.Result r = check(events);

        assertThat(r.breakCount()).isEqualTo(2);
        assertThat(r.breaks()).extracting(AuditChainCheck.Break::sequence).containsExactly(2L, 4L);
    }

    @Test
    void aRecordThatIsNotAnEventIsABreakAndTheChainsAroundItAreStillChecked() {
        List<AuditEvent> events = chain("key-broker/a", 3);
        AuditChainCheck check = new AuditChainCheck();
        check.accept(events.get(0), "#0");
        check.acceptUnreadable("#1", "SerializationException");
        check.accept(events.get(1), "#2");
        check.accept(events.get(2), "#3");

        AuditChainCheck.Result r = check.result();

        assertThat(r.breakCount()).isEqualTo(1);
        assertThat(r.firstBreak().orElseThrow()).isEqualTo(new AuditChainCheck.Break("(unknown)", -1, "#1",
                "the record is not an audit event (SerializationException)"));
        assertThat(r.events()).isEqualTo(4);
        assertThat(r.lastSequences()).containsEntry("key-broker/a", 2L);
    }

    @Test
    void producersChainIndependentlyWhenInterleaved() {
        List<AuditEvent> a = chain("key-broker/a", 3);
        List<AuditEvent> p = chain("provisioning", 3);
        List<AuditEvent> mixed = List.of(a.get(0), p.get(0), p.get(1), a.get(1), a.get(2), p.get(2));

        AuditChainCheck.Result r = check(new ArrayList<>(mixed));

        assertThat(r.intact()).isTrue();
        assertThat(r.lastSequences()).containsEntry("key-broker/a", 2L).containsEntry("provisioning", 2L);
    }

    @Test
    void aChainContinuedFromItsLastEventStaysIntact() {
        List<AuditEvent> first = chain("key-broker/a", 3);
        AuditChain resumed = AuditChain.after("key-broker/a", first.get(2));
        List<AuditEvent> all = new ArrayList<>(first);
        all.add(resumed.next(T0.plusSeconds(60), "release.granted", Map.of("topic", "t")));

        assertThat(check(all).intact()).isTrue();
        assertThat(all.get(3).getSequence()).isEqualTo(3);
    }

    @Test
    void theHashDoesNotDependOnTheAttributesOrder() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");

        AuditEvent x = AuditChain.start("p").next(T0, "t", ab);
        AuditEvent y = AuditChain.start("p").next(T0, "t", ba);

        assertThat(AuditChain.hash(x)).isEqualTo(AuditChain.hash(y));
    }

    @Test
    void everyFieldIsInTheHash() {
        AuditEvent e = AuditChain.start("p").next(T0, "attest.denied", Map.of("code", "bad_signature"));
        byte[] h = AuditChain.hash(e);

        assertThat(AuditChain.hash(AuditEvent.newBuilder(e).setProducer("q").build())).isNotEqualTo(h);
        assertThat(AuditChain.hash(AuditEvent.newBuilder(e).setSequence(1).build())).isNotEqualTo(h);
        assertThat(AuditChain.hash(AuditEvent.newBuilder(e).setTime(T0.plusMillis(1)).build())).isNotEqualTo(h);
        assertThat(AuditChain.hash(AuditEvent.newBuilder(e).setType("attest.accepted").build())).isNotEqualTo(h);
        assertThat(AuditChain.hash(AuditEvent.newBuilder(e).setPreviousHash(ByteBuffer.wrap(new byte[] {1})).build()))
                .isNotEqualTo(h);
    }

    @Test
    void anAuditValueIsKeptToASafeToken() {
        assertThat(AuditTrail.token("[a1, b2]")).isEqualTo("[a1,_b2]");
        assertThat(AuditTrail.token("x\" y=z\nw")).isEqualTo("x__y_z_w");
        assertThat(AuditTrail.token("a".repeat(600))).hasSize(512);
    }

    private static List<AuditEvent> chain(String producer, int n) {
        AuditChain chain = AuditChain.start(producer);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(chain.next(T0.plusSeconds(i), i % 2 == 0 ? "attest.accepted" : "release.denied",
                    Map.of("lease", "l-" + i, "code", i % 2 == 0 ? "none" : "not_attested")));
        }
        return events;
    }

    private static AuditChainCheck.Result check(List<AuditEvent> events) {
        AuditChainCheck check = new AuditChainCheck();
        for (int i = 0; i < events.size(); i++) {
            check.accept(events.get(i), "#" + i);
        }
        return check.result();
    }
}
