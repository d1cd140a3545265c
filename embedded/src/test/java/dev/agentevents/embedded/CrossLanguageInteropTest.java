package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.ToolCall;
import dev.agentevents.schemas.EventJson;
import dev.agentevents.schemas.EventType;
import dev.agentevents.schemas.TestEvents;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.testing.Records;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AgentEvents cross between Java and Node.js (npm's kafkajs and @kafkajs/confluent-schema-registry, installed by
 * the build into target/test-classes/node) through the real embedded broker and registry, in both directions.
 */
class CrossLanguageInteropTest {

    private static final Path NODE_DIR = Path.of("target", "test-classes", "node");
    private static SchemaRegistryServer registry;

    @BeforeAll
    static void start() {
        RegistryConfig base = RegistryConfig.of(EmbeddedStack.shared().kafka().bootstrapServers(), 0, (short) 1);
        registry = SchemaRegistryServer.start(new RegistryConfig(base.kafka(), base.host(), 0,
                "_schemas-interop-" + UUID.randomUUID(), (short) 1, base.defaultCompatibility()));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void shouldReadInJavaExactlyTheEventNodeProduced(@TempDir Path dir) throws Exception {
        String topic = newTopic();
        AgentEvent event = toolExecuting("grace", "run-node-1");
        Path schemaFile = Files.writeString(dir.resolve("AgentEvent.avsc"), AgentEvent.getClassSchema().toString(true));
        Path eventFile = Files.writeString(dir.resolve("event.json"), EventJson.toJson(event).toString());

        JsonNode produced = EventJson.MAPPER.readTree(node("produce", EmbeddedStack.shared().kafka().bootstrapServers(),
                registry.url(), topic, schemaFile.toAbsolutePath().toString(), eventFile.toAbsolutePath().toString())
                .get(0));

        SchemaRegistryClient client = registry.client();
        assertThat(produced.get("id").asInt())
                .isEqualTo(client.idOf(Topics.valueSubject(topic), AgentEvent.getClassSchema()));
        AvroDeserializer<AgentEvent> deserializer = AvroDeserializer.specific(client, AgentEvent.class);
        try (KafkaConsumer<String, AgentEvent> consumer = consumer(deserializer)) {
            consumer.subscribe(List.of(topic));
            ConsumerRecord<String, AgentEvent> record = pollOne(consumer);
            assertThat(record.key()).isEqualTo("grace");
            assertThat(record.value()).isEqualTo(event);
        }
    }

    @Test
    void shouldReadInNodeExactlyTheEventJavaProduced() throws Exception {
        String topic = newTopic();
        AgentEvent event = toolExecuting("heidi", "run-java-1");
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(registry.client(), Map.of(), false);
        try (KafkaProducer<String, AgentEvent> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedStack.shared().kafka().bootstrapServers()),
                new StringSerializer(), serializer)) {
            producer.send(new ProducerRecord<>(topic, event.getUserId(), event)).get(30, TimeUnit.SECONDS);
        }

        JsonNode line = EventJson.MAPPER.readTree(node("consume", EmbeddedStack.shared().kafka().bootstrapServers(),
                registry.url(), topic, "1").get(0));

        assertThat(line.get("key").asText()).isEqualTo("heidi");
        // compared as parsed text, so 2 (int) and 2L (long) are the same number, as they are in JSON
        assertThat(withoutNulls(line.get("value")))
                .isEqualTo(EventJson.MAPPER.readTree(EventJson.toJson(event).toString()));
    }

    private static AgentEvent toolExecuting(String userId, String runId) {
        return AgentEvent.newBuilder(TestEvents.started(userId, runId))
                .setEventId(UUID.randomUUID().toString())
                .setType(EventType.TOOL_EXECUTING.wireName())
                .setSeq(2)
                .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .setSpanId("00f067aa0ba902b7")
                .setToolCallId("call-1")
                .setToolCall(ToolCall.newBuilder().setToolName("web_search")
                        .setArgumentsJson("{\"query\":\"k\u00f6ln weather \ud83c\udf26\"}").build())
                .build();
    }

    private static JsonNode withoutNulls(JsonNode node) {
        if (!node.isObject()) {
            return node;
        }
        ObjectNode copy = EventJson.MAPPER.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (!field.getValue().isNull()) {
                copy.set(field.getKey(), withoutNulls(field.getValue()));
            }
        }
        return copy;
    }

    private static List<String> node(String... args) throws IOException, InterruptedException {
        assertThat(NODE_DIR.resolve("node_modules/kafkajs")).as("npm packages installed by the build").exists();
        List<String> command = new ArrayList<>(List.of("node", "interop.js"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).directory(NODE_DIR.toFile()).start();
        boolean done = process.waitFor(60, TimeUnit.SECONDS);
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!done) {
            process.destroyForcibly();
        }
        assertThat(done && process.exitValue() == 0)
                .as("node %s finished in time with exit 0; stderr:%n%s", args[0], err).isTrue();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    private static String newTopic() throws Exception {
        String topic = "interop-" + UUID.randomUUID();
        try (Admin admin = EmbeddedStack.shared().kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    private static <V> KafkaConsumer<String, V> consumer(AvroDeserializer<V> deserializer) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedStack.shared().kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "interop-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), deserializer);
    }

    private static <V> ConsumerRecord<String, V> pollOne(KafkaConsumer<String, V> consumer) {
        return Records.first(consumer, Duration.ofSeconds(30));
    }
}
