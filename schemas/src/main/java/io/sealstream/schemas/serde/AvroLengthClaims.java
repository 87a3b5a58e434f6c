package io.sealstream.schemas.serde;

import java.io.EOFException;
import java.io.IOException;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;

/**
 * Checks every length and count an Avro binary encoding claims against the bytes actually present,
 * before anything is decoded. Avro's decoder allocates a string, bytes or array of the claimed size
 * first and reads afterwards, so a 5-byte record claiming a 2 GiB string costs 2 GiB of heap; this
 * walk allocates nothing, so no input can reach an {@link OutOfMemoryError}.
 *
 * <p>Rules: string and bytes lengths are non-negative and within the remaining bytes; union and
 * enum indexes are in range; the items of all arrays and maps together are no more than the bytes
 * of the record (every array element takes at least one byte, which {@link #checkShape} makes
 * sure of for writer schemas from the registry); nothing follows the record.
 *
 * <p>Avro's own limits ({@code org.apache.avro.limits.*}) are set as a second line by
 * {@link #installSystemLimits()}, unless the operator set them.
 */
public final class AvroLengthClaims {
    /** Largest string or bytes value Avro itself may allocate in this JVM (64 MiB). */
    public static final int SYSTEM_MAX_BYTES = 64 << 20;
    /** Most items of one Avro array or map in this JVM. */
    public static final int SYSTEM_MAX_ITEMS = 16 << 20;

    static final String BYTES_LIMIT = "org.apache.avro.limits.bytes.maxLength";
    static final String STRING_LIMIT = "org.apache.avro.limits.string.maxLength";
    static final String ITEMS_LIMIT = "org.apache.avro.limits.collectionItems.maxLength";

    static {
        installSystemLimits();
    }

    private AvroLengthClaims() {
    }

    /**
     * Sets Avro's allocation limits unless already set. Avro reads them once, when its
     * {@code SystemLimitException} class loads, so services call this first thing in main.
     */
    public static void installSystemLimits() {
        setIfAbsent(BYTES_LIMIT, SYSTEM_MAX_BYTES);
        setIfAbsent(STRING_LIMIT, SYSTEM_MAX_BYTES);
        setIfAbsent(ITEMS_LIMIT, SYSTEM_MAX_ITEMS);
    }

    private static void setIfAbsent(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(value));
        }
    }

    /**
     * Walks {@code length} bytes of {@code data} from {@code offset} as one datum of {@code writer}.
     *
     * @throws IOException naming the first claim that the bytes do not hold, or trailing bytes
     */
    public static void check(Schema writer, byte[] data, int offset, int length) throws IOException {
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(data, offset, length, null);
        long[] itemBudget = {length};
        try {
            walk(writer, in, itemBudget);
        } catch (EOFException e) {
            throw new IOException("a length or count in the " + writer.getName()
                    + " encoding claims more than the " + length + " bytes present");
        } catch (AvroRuntimeException e) {
            throw new IOException("the " + writer.getName() + " encoding has an invalid number ("
                    + e.getClass().getSimpleName() + ")");
        }
        if (!in.isEnd()) {
            throw new IOException("bytes follow the " + writer.getName() + " encoding");
        }
    }

    /** Deepest nesting of a writer schema this check accepts. */
    public static final int MAX_SCHEMA_DEPTH = 16;
    /** Most type nodes in a writer schema this check accepts. */
    public static final int MAX_SCHEMA_NODES = 256;

    /**
     * Checks a writer schema from the registry (which tenants may write to) before any record is
     * read with it: no recursive type, at most {@value #MAX_SCHEMA_DEPTH} levels and
     * {@value #MAX_SCHEMA_NODES} type nodes, and every array or map element at least one byte
     * long, so that {@link #check} walks each record in time linear in its bytes and never
     * overflows the stack. Every Sealstream record and any compatible evolution of it passes.
     *
     * @throws IOException naming the first rule the schema breaks
     */
    public static void checkShape(Schema writer) throws IOException {
        int[] nodes = {0};
        shape(writer, new java.util.HashSet<>(), 0, nodes);
    }

    private static void shape(Schema s, java.util.Set<String> path, int depth, int[] nodes) throws IOException {
        if (depth > MAX_SCHEMA_DEPTH) {
            throw new IOException("the writer schema nests deeper than " + MAX_SCHEMA_DEPTH + " levels");
        }
        if (++nodes[0] > MAX_SCHEMA_NODES) {
            throw new IOException("the writer schema has more than " + MAX_SCHEMA_NODES + " type nodes");
        }
        switch (s.getType()) {
            case RECORD -> {
                if (!path.add(s.getFullName())) {
                    throw new IOException("the writer schema's type " + s.getName() + " contains itself");
                }
                for (Schema.Field f : s.getFields()) {
                    shape(f.schema(), path, depth + 1, nodes);
                }
                path.remove(s.getFullName());
            }
            case UNION -> {
                for (Schema branch : s.getTypes()) {
                    shape(branch, path, depth + 1, nodes);
                }
            }
            case ARRAY, MAP -> {
                Schema element = s.getType() == Schema.Type.ARRAY ? s.getElementType() : s.getValueType();
                // first the element's own shape: the sizes below are only defined for a type without cycles
                shape(element, path, depth + 1, nodes);
                int minimum = minimumBytes(element) + (s.getType() == Schema.Type.MAP ? 1 : 0);
                if (minimum < 1) {
                    throw new IOException("the writer schema has an array of items that take no bytes");
                }
                if (countNodes(element) > MAX_NODES_PER_ITEM_BYTE * minimum) {
                    throw new IOException("the writer schema has " + s.getType().getName()
                            + " items with many more types than bytes");
                }
            }
            default -> { }
        }
    }

    /**
     * Most type nodes per byte of an array or map item: walking an item costs its nodes, so this
     * keeps the walk of any record within this many steps per byte.
     */
    static final int MAX_NODES_PER_ITEM_BYTE = 16;

    /** Type nodes of {@code s}, which {@link #shape} found free of cycles. */
    private static int countNodes(Schema s) {
        return 1 + switch (s.getType()) {
            case RECORD -> s.getFields().stream().mapToInt(f -> countNodes(f.schema())).sum();
            case UNION -> s.getTypes().stream().mapToInt(AvroLengthClaims::countNodes).sum();
            case ARRAY -> countNodes(s.getElementType());
            case MAP -> countNodes(s.getValueType());
            default -> 0;
        };
    }

    /** The fewest bytes a value of {@code s} (free of cycles) encodes to; a map entry's key adds one more. */
    private static int minimumBytes(Schema s) {
        return switch (s.getType()) {
            case NULL -> 0;
            case FIXED -> s.getFixedSize();
            case FLOAT -> 4;
            case DOUBLE -> 8;
            case RECORD -> s.getFields().stream().mapToInt(f -> minimumBytes(f.schema())).sum();
            default -> 1; // booleans, varints, lengths, enum and union indexes, block counts
        };
    }

    private static void walk(Schema s, BinaryDecoder in, long[] budget) throws IOException {
        switch (s.getType()) {
            case NULL -> { }
            case BOOLEAN -> in.skipFixed(1);
            case INT, LONG -> in.readLong(); // varints; readLong accepts both widths
            case FLOAT -> in.skipFixed(4);
            case DOUBLE -> in.skipFixed(8);
            case STRING, BYTES -> in.skipFixed(length(in, s));
            case FIXED -> in.skipFixed(s.getFixedSize());
            case ENUM -> index(in, s.getEnumSymbols().size(), s);
            case UNION -> walk(s.getTypes().get(index(in, s.getTypes().size(), s)), in, budget);
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    walk(f.schema(), in, budget);
                }
            }
            case ARRAY, MAP -> {
                for (long n = blockCount(in, budget, s); n > 0; n = blockCount(in, budget, s)) {
                    for (long i = 0; i < n; i++) {
                        if (s.getType() == Schema.Type.MAP) {
                            in.skipFixed(length(in, s));
                        }
                        walk(s.getType() == Schema.Type.MAP ? s.getValueType() : s.getElementType(), in, budget);
                    }
                }
            }
        }
    }

    private static int length(BinaryDecoder in, Schema s) throws IOException {
        long n = in.readLong();
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new IOException("a " + s.getType().getName() + " claims length " + n);
        }
        return (int) n;
    }

    private static int index(BinaryDecoder in, int size, Schema s) throws IOException {
        long i = in.readLong();
        if (i < 0 || i >= size) {
            throw new IOException("a " + s.getType().getName() + " index " + i + " is outside 0.." + (size - 1));
        }
        return (int) i;
    }

    private static long blockCount(BinaryDecoder in, long[] budget, Schema s) throws IOException {
        long n = in.readLong();
        if (n < 0) {
            if (n == Long.MIN_VALUE) {
                throw new IOException("an " + s.getType().getName() + " block claims an impossible count");
            }
            n = -n;
            in.readLong(); // the block's size in bytes, which a reader may use to skip it
        }
        if (n > budget[0]) {
            throw new IOException("an " + s.getType().getName() + " claims " + n + " items in fewer bytes");
        }
        budget[0] -= n;
        return n;
    }
}
