package dev.agentevents.bench.pipeline;

import dev.agentevents.bench.StampedRecord;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.producer.AgentSimulator;
import dev.agentevents.producer.EventPublisher;
import dev.agentevents.producer.PublisherConfig;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Realistic events (the simulator's mix: thinking, tool calls and results, streamed text, completions, failures),
 * played once into memory and serialized in the Confluent wire format, so the baseline sends the same bytes the
 * pipeline carries. Each is stamped with the current time as its {@code occurredAt} when taken, so that a pipeline
 * fed from the pool measures true latency; taking them costs the sender the same few byte writes on either side.
 */
final class EventPool {

    /** A user's key and the event's encoded value. */
    record Entry(byte[] key, StampedRecord record) {

        /** The value with {@code occurredAt} = now, in the entry's own array (valid until it is taken again). */
        byte[] value() {
            return record.stamped();
        }
    }

    private final List<Entry> entries;
    private final AgentEvent typical;
    private int next;

    private EventPool(List<Entry> entries, AgentEvent typical) {
        this.entries = entries;
        this.typical = typical;
    }

    static EventPool of(List<String> users, int runs, String registryUrl, String topic) throws InterruptedException {
        MockProducer<String, AgentEvent> capture = new MockProducer<>(true, null, new StringSerializer(),
                (t, e) -> new byte[0]);
        EventPublisher publisher = EventPublisher.using(capture, PublisherConfig.of("unused:9092", registryUrl),
                Clock.systemUTC());
        AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, 0, 0.05, 1, runs,
                7), new AgentSimulator.Listener() { }).start();
        simulator.awaitFinished(Duration.ofMinutes(5));
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(new SchemaRegistryClient(registryUrl), Map.of(),
                false);
        List<ProducerRecord<String, AgentEvent>> history = capture.history();
        capture.clear();
        List<Entry> entries = new ArrayList<>();
        for (ProducerRecord<String, AgentEvent> record : history) {
            entries.add(new Entry(record.key().getBytes(StandardCharsets.UTF_8),
                    StampedRecord.of(record.value(), event -> serializer.serialize(topic, event))));
        }
        double average = entries.stream().mapToInt(e -> e.record().size()).average().orElse(0);
        int typical = 0;
        for (int i = 1; i < entries.size(); i++) {
            if (Math.abs(entries.get(i).record().size() - average)
                    < Math.abs(entries.get(typical).record().size() - average)) {
                typical = i;
            }
        }
        return new EventPool(entries, history.get(typical).value());
    }

    /** The next event, going round the pool again after its last one. */
    Entry next() {
        Entry entry = entries.get(next);
        next = (next + 1) % entries.size();
        return entry;
    }

    /**
     * The pool's events from its first, once: for a pipeline, which drops an event it has seen (a second lap would
     * be duplicates). Each call starts again from the first.
     */
    Cursor once() {
        return new Cursor();
    }

    /** The event whose encoded size is nearest the pool's average. */
    AgentEvent typical() {
        return typical;
    }

    double averageValueBytes() {
        return entries.stream().mapToInt(e -> e.record().size()).average().orElse(0);
    }

    int size() {
        return entries.size();
    }

    /** The pool's events in order, once; running past the last one is an error naming the pool's size. */
    final class Cursor {

        private int at;

        Entry next() {
            if (at == entries.size()) {
                throw new IllegalStateException("the event pool's " + entries.size() + " events are used up; a "
                        + "pipeline must not be sent an event twice (make the pool larger or the round shorter)");
            }
            return entries.get(at++);
        }
    }
}
