package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.CompatibilityLevel;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.TestEvents;
import dev.agentevents.schemas.Topics;
import dev.agentevents.serde.AvroDecodeException;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import dev.agentevents.serde.SchemaRegistryException;
import dev.agentevents.testing.Records;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Confluent wire-format serde through the real embedded broker and registry. */
class AvroSerdeIntegrationTest {

    private static SchemaRegistryServer registry;
    private static SchemaRegistryClient client;

    @BeforeAll
    static void start() {
        RegistryConfig base = RegistryConfig.of(EmbeddedStack.shared().kafka().bootstrapServers(), 0, (short) 1);
        registry = SchemaRegistryServer.start(new RegistryConfig(base.kafka(), base.host(), 0,
                "_schemas-serde-" + UUID.randomUUID(), (short) 1, base.defaultCompatibility()));
        client = registry.client();
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void shouldRoundTripEventsThroughBrokerUnderTopicNameSubject() throws Exception {
        String topic = newTopic();
        List<AgentEvent> sent = List.of(TestEvents.started("alice", "run-1"),
                TestEvents.thinking("alice", "run-1", 1, "looking up flights"),
                TestEvents.thinking("alice", "run-1", 2, "comparing prices \u2708\ufe0f"));

        produce(topic, new AvroSerializer<>(), Map.of(), sent);
        List<Object> received = consume(topic, AvroDeserializer.specific(AgentEvent.class), sent.size());

        assertThat(received).containsExactlyElementsOf(sent);
        assertThat(client.subjects()).contains(Topics.valueSubject(topic));
        assertThat(client.latest(Topics.valueSubject(topic)).schema()).isEqualTo(AgentEvent.getClassSchema());
    }

    @Test
    void shouldReadEventsWrittenWithNewerSchemaUsingOlderReaderSchema() throws Exception {
        String topic = newTopic();
        client.setCompatibility(Topics.valueSubject(topic), CompatibilityLevel.FULL_TRANSITIVE);
        client.register(Topics.valueSubject(topic), AgentEvent.getClassSchema());
        Schema v2 = withOptionalHandoff(AgentEvent.getClassSchema());
        AgentEvent original = TestEvents.thinking("bob", "run-2", 1, "drafting the reply");
        GenericRecord written = toGeneric(original, v2);
        GenericRecord handoff = new GenericData.Record(v2.getField("handoff").schema().getTypes().get(1));
        handoff.put("toAgent", "billing");
        written.put("handoff", handoff);

        produce(topic, new AvroSerializer<>(), Map.of(), List.of(written));
        List<Object> received = consume(topic, AvroDeserializer.specific(AgentEvent.class), 1);

        assertThat(client.versions(Topics.valueSubject(topic))).containsExactly(1, 2);
        assertThat(received).containsExactly(original);
    }

    @Test
    void shouldWriteWithLatestRegisteredSchemaWhenUseLatestVersionIsOn() throws Exception {
        String topic = newTopic();
        String subject = Topics.valueSubject(topic);
        client.register(subject, AgentEvent.getClassSchema());
        int v2Id = client.register(subject, withOptionalHandoff(AgentEvent.getClassSchema()));
        AgentEvent event = TestEvents.thinking("erin", "run-5", 3, "almost there");
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(client,
                Map.of(AvroSerializer.USE_LATEST_VERSION_CONFIG, "true",
                        AvroSerializer.AUTO_REGISTER_CONFIG, "false"), false);

        byte[] bytes = serializer.serialize(topic, event);

        assertThat(java.nio.ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(v2Id);
        assertThat(AvroDeserializer.specific(client, AgentEvent.class).deserialize(topic, bytes)).isEqualTo(event);
    }

    @Test
    void shouldNameSubjectWhenAutoRegisterIsOffAndSchemaIsNotRegistered() {
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(client,
                Map.of(AvroSerializer.AUTO_REGISTER_CONFIG, "false"), false);

        assertThatThrownBy(() -> serializer.serialize("never-registered", TestEvents.started("x", "r")))
                .isInstanceOf(SerializationException.class)
                .hasMessageContaining("subject 'never-registered-value'")
                .hasMessageContaining("40401");
    }

    @Test
    void shouldReportUnknownSchemaIdAndTruncatedAvroAsDistinctReasons() {
        AvroDeserializer<AgentEvent> deserializer = AvroDeserializer.specific(client, AgentEvent.class);
        byte[] good = new AvroSerializer<AgentEvent>(client, Map.of(), false)
                .serialize("reasons", TestEvents.thinking("fay", "run-6", 1, "a long enough thought"));
        byte[] unknownId = good.clone();
        java.nio.ByteBuffer.wrap(unknownId).putInt(1, 987_654);
        byte[] truncated = Arrays.copyOf(good, good.length - 4);
        byte[] trailing = Arrays.copyOf(good, good.length + 3);

        assertThatThrownBy(() -> deserializer.deserialize("reasons", unknownId))
                .isInstanceOfSatisfying(AvroDecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.UNKNOWN_SCHEMA_ID);
                    assertThat(e.schemaId()).isEqualTo(987_654);
                })
                .hasMessageContaining("names schema id 987654, which the registry does not know");
        assertThatThrownBy(() -> deserializer.deserialize("reasons", truncated))
                .isInstanceOfSatisfying(AvroDecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.MALFORMED_AVRO));
        assertThatThrownBy(() -> deserializer.deserialize("reasons", trailing))
                .isInstanceOfSatisfying(AvroDecodeException.class,
                        e -> assertThat(e.reason()).isEqualTo(AvroDecodeException.Reason.MALFORMED_AVRO))
                .hasMessageContaining("bytes left over");
    }

    @Test
    void shouldCarryStatusErrorCodeAndSubjectInRegistryExceptions() {
        String subject = "strict-" + UUID.randomUUID();
        client.register(subject, AgentEvent.getClassSchema());
        Schema incompatible = new Schema.Parser().parse("{\"type\":\"record\",\"name\":"
                + "\"dev.agentevents.event.AgentEvent\",\"fields\":[{\"name\":\"eventId\",\"type\":\"int\"}]}");

        assertThatThrownBy(() -> client.version(subject, "7"))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.httpStatus()).isEqualTo(404);
                    assertThat(e.errorCode()).isEqualTo(SchemaRegistryException.VERSION_NOT_FOUND);
                    assertThat(e.subject()).isEqualTo(subject);
                    assertThat(e.isRetriable()).isFalse();
                });
        assertThatThrownBy(() -> client.register(subject, incompatible))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isIncompatible()).isTrue();
                    assertThat(e.getMessage()).contains("HTTP 409").contains(subject);
                });
        assertThat(client.incompatibilities(subject, "latest", incompatible)).isNotEmpty();
        assertThat(client.incompatibilities(subject, "latest", AgentEvent.getClassSchema())).isEmpty();
    }

    static Schema withOptionalHandoff(Schema base) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(base.toString());
        ObjectNode field = ((ArrayNode) root.get("fields")).addObject();
        field.put("name", "handoff");
        ArrayNode union = field.putArray("type");
        union.add("null");
        ObjectNode record = union.addObject().put("type", "record").put("name", "Handoff");
        record.putArray("fields").addObject().put("name", "toAgent").put("type", "string");
        field.putNull("default");
        return new Schema.Parser().parse(root.toString());
    }

    private static GenericRecord toGeneric(AgentEvent event, Schema schema) {
        byte[] bytes = dev.agentevents.schemas.HashChain.avroBinary(event);
        try {
            return new org.apache.avro.generic.GenericDatumReader<GenericRecord>(event.getSchema(), schema)
                    .read(null, org.apache.avro.io.DecoderFactory.get().binaryDecoder(bytes, null));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String newTopic() throws Exception {
        String topic = "serde-" + UUID.randomUUID();
        try (Admin admin = EmbeddedStack.shared().kafka().admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    private static Map<String, Object> registryConfig() {
        return Map.of(SchemaRegistryClient.URL_CONFIG, registry.url());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void produce(String topic, AvroSerializer serializer, Map<String, Object> extra,
                                List<?> values) throws Exception {
        Map<String, Object> config = new HashMap<>(registryConfig());
        config.putAll(extra);
        serializer.configure(config, false);
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedStack.shared().kafka().bootstrapServers()),
                new StringSerializer(), serializer)) {
            for (Object value : values) {
                producer.send(new ProducerRecord<>(topic, "key", value)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<Object> consume(String topic, AvroDeserializer<?> deserializer, int count) {
        deserializer.configure(registryConfig(), false);
        try (KafkaConsumer<String, ?> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, EmbeddedStack.shared().kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "serde-test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), deserializer)) {
            consumer.subscribe(List.of(topic));
            return Records.atLeast(consumer, count, Duration.ofSeconds(30)).stream().map(r -> (Object) r.value())
                    .toList();
        }
    }
}
