package dev.agentevents.bench.fanout;

import dev.agentevents.bench.StampedRecord;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
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
}
