package io.sealstream.audit;

import io.sealstream.schemas.v1.AuditEvent;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One producer's hash chain of audit events: each event carries its sequence number and the
 * SHA-256 of the producer's previous event ({@link #hash}), so whoever reads the topic can tell
 * that an event was deleted, altered, inserted or moved ({@link AuditChainCheck}).
 *
 * <p>The hash is over a canonical encoding (a domain tag, then every field length-prefixed, the
 * attributes sorted by name), not over Avro's bytes, whose map order is not fixed.
 */
public final class AuditChain {
    public static final int VERSION = 1;
    /** The previous hash of a chain's first event. */
    public static final byte[] GENESIS = new byte[32];
    private static final byte[] DOMAIN = "sealstream-audit-v1".getBytes(StandardCharsets.UTF_8);

    private final String producer;
    private long nextSequence;
    private byte[] lastHash;

    private AuditChain(String producer, long nextSequence, byte[] lastHash) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.nextSequence = nextSequence;
        this.lastHash = lastHash.clone();
    }

    /** A new chain: its first event has sequence 0 and {@link #GENESIS} as previous hash. */
    public static AuditChain start(String producer) {
        return new AuditChain(producer, 0, GENESIS);
    }

    /**
     * {@code producer}'s chain after {@code last}, its last event read back from the topic after a
     * restart.
     *
     * @throws IllegalStateException if {@code last} is another producer's event
     */
    public static AuditChain after(String producer, AuditEvent last) {
        if (!producer.equals(last.getProducer())) {
            throw new IllegalStateException("the audit topic's last record for " + producer + " is an event of "
                    + last.getProducer() + "; the topic was tampered with: run 'sealstream audit verify'");
        }
        return new AuditChain(producer, last.getSequence() + 1, hash(last));
    }

    /** The sequence number the next event gets. */
    public synchronized long nextSequence() {
        return nextSequence;
    }

    /** The next event of the chain, which the caller must write before asking for another. */
    public synchronized AuditEvent next(Instant time, String type, Map<String, String> attributes) {
        AuditEvent event = AuditEvent.newBuilder().setVersion(VERSION).setProducer(producer).setSequence(nextSequence)
                .setTime(time).setType(type).setAttributes(Map.copyOf(attributes))
                .setPreviousHash(ByteBuffer.wrap(lastHash.clone())).build();
        nextSequence++;
        lastHash = hash(event);
        return event;
    }

    /** SHA-256 of the event's canonical encoding. */
    public static byte[] hash(AuditEvent e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.writeBytes(DOMAIN);
        writeLong(out, e.getVersion());
        writeText(out, e.getProducer());
        writeLong(out, e.getSequence());
        writeLong(out, e.getTime().toEpochMilli());
        writeText(out, e.getType());
        Map<String, String> sorted = new TreeMap<>(e.getAttributes());
        writeLong(out, sorted.size());
        sorted.forEach((k, v) -> {
            writeText(out, k);
            writeText(out, v);
        });
        ByteBuffer previous = e.getPreviousHash().duplicate();
        byte[] prev = new byte[previous.remaining()];
        previous.get(prev);
        writeBytes(out, prev);
        return sha256().digest(out.toByteArray());
    }

    private static void writeText(ByteArrayOutputStream out, String s) {
        writeBytes(out, s.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeBytes(ByteArrayOutputStream out, byte[] b) {
        writeLong(out, b.length);
        out.writeBytes(b);
    }

    private static void writeLong(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(Long.BYTES).putLong(v).array());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
