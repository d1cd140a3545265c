package dev.agentevents.bench.fanout;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Records of the ordered topic for the fanout benchmarks, as the router would write them, but cheap to send: each
 * user's record is built, hashed and Avro-encoded once, and every send only writes the current time into its
 * {@code occurredAt} (so latency stays true; the chain hash no longer matches the event, which the fanout node does
 * not check). Building and encoding every record as the router does took a third of the CPU the fanout node needs
 * on this 2-core machine.
 */
public final class OrderedLoad {

    private final String topic;
    private final byte[][] keys;
    private final StampedRecord[] records;

    /** Records in the registry's wire format (the schema registered in the registry at {@code registryUrl}). */
    public static OrderedLoad viaRegistry(AgentEvent template, String prefix, int users, String topic, String registryUrl) {
        AvroSerializer<OrderedEvent> serializer = new AvroSerializer<>(new SchemaRegistryClient(registryUrl),
                Map.of(), false);
        return new OrderedLoad(template, prefix, users, topic, ordered -> serializer.serialize(topic, ordered));
    }

    /**
     * One record per user {@code prefix0 .. prefix(users-1)}: {@code template} with that user and seq, as an
     * {@code OrderedEvent} encoded by {@code encode}.
     */
    public OrderedLoad(AgentEvent template, String prefix, int users, String topic, Function<OrderedEvent, byte[]> encode) {
        this.topic = topic;
        keys = new byte[users][];
        records = new StampedRecord[users];
        AgentEvent event = AgentEvent.newBuilder(template).build();
        Instant routedAt = Instant.now();
        for (int i = 0; i < users; i++) {
            String user = prefix + i;
            keys[i] = user.getBytes(StandardCharsets.UTF_8);
            event.setUserId(user);
            event.setSeq(i);
            records[i] = StampedRecord.of(event, e -> encode.apply(OrderedRecords.event(HashChain.GENESIS, e,
                    routedAt, null)));
        }
    }

    /**
     * The {@code n}-th record to send (users in turn), stamped now. Its value array is reused by the next record of
     * the same user: send it before asking for that one (the producer copies it when sending).
     */
    public ProducerRecord<byte[], byte[]> record(long n) {
        return record(n, keys.length);
    }

    /** As {@link #record(long)}, spread over the first {@code users} users only. */
    public ProducerRecord<byte[], byte[]> record(long n, int users) {
        int user = (int) (n % Math.min(users, keys.length));
        return new ProducerRecord<>(topic, keys[user], records[user].stamped());
    }

    /**
     * An encoded record whose {@code occurredAt} (an Avro long: a zig-zag varint) can be rewritten in place. Its
     * offset is found by encoding the event twice, one millisecond apart; both encodings must have the same length,
     * which fails only in the millisecond the varint grows a byte (next in 2039).
     */
    private record StampedRecord(byte[] bytes, int offset, int length) {

        static StampedRecord of(AgentEvent event, Function<AgentEvent, byte[]> encode) {
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
                throw new IllegalStateException("stamping occurredAt at byte " + offset
                        + " does not give the encoding");
            }
            return record;
        }

        /** The record with {@code occurredAt} = now, in this record's array (valid until the next call). */
        byte[] stamped() {
            return stamped(System.currentTimeMillis());
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
}
