package dev.agentevents.router;

import dev.agentevents.embedded.EmbeddedStack;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;

/** The router's topology in a {@link TopologyTestDriver}, with the real embedded registry behind its serdes. */
final class RouterDriver implements AutoCloseable {

    static final Instant START = Instant.parse("2026-11-21T12:00:00Z");

    final RouterConfig config;
    final RouterMetrics metrics = RouterMetrics.discarding();
    final RouterErrors errors;
    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> input;
    final TestOutputTopic<String, OrderedEvent> ordered;
    final TestOutputTopic<byte[], byte[]> deadLetters;
    final SchemaRegistryClient registry;
    private final AvroSerializer<AgentEvent> serializer;

    RouterDriver() {
        this(Map.of());
    }

    RouterDriver(Map<String, String> overrides) {
        this(overrides, InputProgress.NO_BACKLOG);
    }

    /** A driver whose timeouts ask {@code progress} how far the input has been read. */
    RouterDriver(Map<String, String> overrides, InputProgress progress) {
        EmbeddedStack stack = EmbeddedStack.shared();
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", "topology-test-driver:9092");
        env.put("SCHEMA_REGISTRY_URL", stack.registryUrl());
        try {
            env.put("ROUTER_STATE_DIR", Files.createTempDirectory("router-ttd").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        env.putAll(overrides);
        config = RouterConfig.fromEnv(env);
        registry = new SchemaRegistryClient(stack.registryUrl());
        Properties props = config.streamsProperties();
        errors = RouterErrors.of(config, metrics);
        props.put(RouterErrors.CONFIG_KEY, errors);
        driver = new TopologyTestDriver(RouterTopology.build(config, registry, errors, progress, 1), props, START);
        input = driver.createInputTopic(config.topics().events(), new ByteArraySerializer(), new ByteArraySerializer());
        AvroDeserializer<OrderedEvent> orderedDeserializer = AvroDeserializer.specific(registry, OrderedEvent.class);
        ordered = driver.createOutputTopic(config.topics().ordered(), new StringDeserializer(), orderedDeserializer);
        deadLetters = driver.createOutputTopic(config.topics().deadLetters(), new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        serializer = new AvroSerializer<>(registry, Map.of(), false);
    }

    byte[] bytes(AgentEvent event) {
        return serializer.serialize(config.topics().events(), event);
    }

    void send(AgentEvent event) {
        send(event.getUserId(), event);
    }

    void send(String key, AgentEvent event) {
        sendRaw(key == null ? null : key.getBytes(StandardCharsets.UTF_8), bytes(event));
    }

    void sendAll(List<AgentEvent> events) {
        events.forEach(this::send);
    }

    void sendRaw(byte[] key, byte[] value) {
        input.pipeInput(key, value);
    }

    List<OrderedEvent> ordered() {
        return ordered.readValuesToList();
    }

    List<TestRecord<byte[], byte[]>> deadLetters() {
        return deadLetters.readRecordsToList();
    }

    static String header(TestRecord<byte[], byte[]> record, String name) {
        return DeadLetterHeaders.text(record.headers(), name).orElse(null);
    }

    static String code(TestRecord<byte[], byte[]> record) {
        return header(record, DeadLetterHeaders.CODE);
    }

    void advance(Duration duration) {
        driver.advanceWallClockTime(duration);
    }

    KeyValueStore<Bytes, byte[]> runs() {
        return driver.getKeyValueStore(RunSequencer.RUNS_STORE);
    }

    KeyValueStore<Bytes, byte[]> openRuns() {
        return driver.getKeyValueStore(RunSequencer.OPEN_RUNS_STORE);
    }

    KeyValueStore<Bytes, byte[]> pending() {
        return driver.getKeyValueStore(RunSequencer.PENDING_STORE);
    }

    @Override
    public void close() {
        driver.close();
    }
}
