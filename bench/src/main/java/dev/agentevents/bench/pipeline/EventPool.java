package dev.agentevents.bench.pipeline;

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
 * pipeline carries.
 */
final class EventPool {

    record Entry(byte[] key, byte[] value) {
    }

    private final List<Entry> entries;
    private int next;

    private EventPool(List<Entry> entries) {
        this.entries = entries;
    }

    static EventPool of(List<String> users, int runs, String registryUrl, String topic) throws InterruptedException {
        MockProducer<String, AgentEvent> capture = new MockProducer<>(true, null, new StringSerializer(),
                (t, e) -> new byte[0]);
        EventPublisher publisher = EventPublisher.using(capture, PublisherConfig.of("unused:9092", registryUrl),
                Clock.systemUTC());
        AgentSimulator simulator = new AgentSimulator(publisher, new AgentSimulator.Settings(users, 0, 0.05, 1, runs,
                7), new AgentSimulator.Listener() { }).start();
        simulator.awaitFinished(Duration.ofMinutes(2));
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(new SchemaRegistryClient(registryUrl), Map.of(),
                false);
        List<Entry> entries = new ArrayList<>();
        for (ProducerRecord<String, AgentEvent> record : capture.history()) {
            entries.add(new Entry(record.key().getBytes(StandardCharsets.UTF_8),
                    serializer.serialize(topic, record.value())));
        }
        return new EventPool(entries);
    }

    Entry next() {
        Entry entry = entries.get(next);
        next = (next + 1) % entries.size();
        return entry;
    }

    double averageValueBytes() {
        return entries.stream().mapToInt(e -> e.value().length).average().orElse(0);
    }

    int size() {
        return entries.size();
    }
}
