package dev.agentevents.router;

import dev.agentevents.event.OrderedEvent;
import dev.agentevents.serde.SchemaRegistryClient;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

/**
 * The router's topology, a function of its config: {@code agent-events} (raw key, decoded value with its bytes)
 * → {@link RunSequencer} (stores {@code runs}, {@code pending} and {@code open-runs}) → {@code agent-events-ordered}
 * (key = userId, value = {@link OrderedEvent}) and {@code agent-events-dlq} (original key and value bytes up to the
 * dead-letter budget, reason headers).
 */
public final class RouterTopology {

    static final String SOURCE = "events-source";
    static final String SEQUENCER = "run-sequencer";

    private RouterTopology() {
    }

    public static Topology build(RouterConfig config) {
        return build(config, new SchemaRegistryClient(config.registryUrl()),
                RouterErrors.of(config, RouterMetrics.discarding()), InputProgress.NO_BACKLOG, 0);
    }

    /**
     * The topology; its timeouts ask {@code progress} how far the input has been read, and it shares {@code errors}
     * with the exception handlers (put it in the Streams configuration under {@link RouterErrors#CONFIG_KEY}). Its
     * serdes use {@code registry}, whose cache {@link RouterApp} fills with the ordered schema's id before starting,
     * so writing an ordered event never waits for the registry. {@code inputPartitions} (0: unknown) lets the router
     * count input that is not on the partition murmur2 of its key names.
     */
    static Topology build(RouterConfig config, SchemaRegistryClient registry, RouterErrors errors,
                          InputProgress progress, int inputPartitions) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, new ByteArrayDeserializer(),
                new IncomingEvent.ValueDeserializer(registry, config.registryRetry(), config.limits().maxEventBytes()),
                config.topics().events());
        topology.addProcessor(SEQUENCER, () -> new RunSequencer(config, errors, progress, inputPartitions), SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RunSequencer.RUNS_STORE),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), SEQUENCER);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RunSequencer.PENDING_STORE),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), SEQUENCER);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
                RunSequencer.OPEN_RUNS_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingEnabled(), SEQUENCER);
        topology.addSink(RunSequencer.ORDERED_SINK, config.topics().ordered(), new StringSerializer(),
                new OutgoingEvent.ValueSerializer(registry), SEQUENCER);
        topology.addSink(RunSequencer.DLQ_SINK, config.topics().deadLetters(), new ByteArraySerializer(),
                new ByteArraySerializer(), SEQUENCER);
        return topology;
    }
}
