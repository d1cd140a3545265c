package dev.agentevents.bench;

import dev.agentevents.event.AgentEvent;
import java.time.Instant;
import java.util.Arrays;
import java.util.function.Function;

/**
 * An encoded record holding an event whose {@code occurredAt} (an Avro long: a zig-zag varint) can be rewritten in
 * place, so a benchmark sends pre-encoded records that still carry their true creation time. The offset is found by
 * encoding the event twice, one millisecond apart; both encodings must have the same length, which fails only in
 * the millisecond the varint grows a byte (next in 2039).
 */
public final class StampedRecord {

    private final byte[] bytes;
    private final int offset;
    private final int length;

    private StampedRecord(byte[] bytes, int offset, int length) {
        this.bytes = bytes;
        this.offset = offset;
        this.length = length;
    }

    /** {@code event} as {@code encode} writes it (whole records around it included); sets its occurredAt. */
    public static StampedRecord of(AgentEvent event, Function<AgentEvent, byte[]> encode) {
        long now = System.currentTimeMillis();
        event.setOccurredAt(Instant.ofEpochMilli(now));
        byte[] a = encode.apply(event);
        event.setOccurredAt(Instant.ofEpochMilli(now + 1));
        byte[] b = encode.apply(event);
        int length = varintLength(now);
        if (a.length != b.length || varintLength(now + 1) != length) {
            throw new IllegalStateException("occurredAt " + now + " changes the record's length when stamped");
        }
        int offset = 0;
        while (offset < a.length && a[offset] == b[offset]) {
            offset++;
        }
        if (offset == a.length) {
            throw new IllegalStateException("occurredAt not found in the encoded record");
        }
        StampedRecord record = new StampedRecord(a, offset, length);
        int end = offset + length;
        if (!Arrays.equals(record.stamped(now + 1), 0, end, b, 0, end)) {
            throw new IllegalStateException("stamping occurredAt at byte " + offset + " does not give the encoding");
        }
        return record;
    }

    /** The record with {@code occurredAt} = now, in this record's array (valid until the next call). */
    public byte[] stamped() {
        return stamped(System.currentTimeMillis());
    }

    /** The encoded size. */
    public int size() {
        return bytes.length;
    }

    private byte[] stamped(long millis) {
        long zigzag = (millis << 1) ^ (millis >> 63);
        for (int i = 0; i < length; i++) {
            bytes[offset + i] = (byte) (i == length - 1 ? zigzag & 0x7f : (zigzag & 0x7f) | 0x80);
            zigzag >>>= 7;
        }
        return bytes;
    }

    private static int varintLength(long millis) {
        long zigzag = (millis << 1) ^ (millis >> 63);
        int length = 1;
        while ((zigzag >>>= 7) != 0) {
            length++;
        }
        return length;
    }
}
