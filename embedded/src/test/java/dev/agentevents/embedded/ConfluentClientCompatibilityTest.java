package dev.agentevents.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.TestEvents;
import dev.agentevents.serde.AvroDeserializer;
import dev.agentevents.serde.AvroSerializer;
import dev.agentevents.serde.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.avro.AvroSchema;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.CachedSchemaRegistryClient;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.SchemaMetadata;
import org.apache.flink.avro.registry.confluent.shaded.io.confluent.kafka.schemaregistry.client.rest.exceptions.RestClientException;
import org.apache.flink.avro.shaded.org.apache.avro.Schema;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericData;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericDatumReader;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericDatumWriter;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericRecord;
import org.apache.flink.avro.shaded.org.apache.avro.io.BinaryEncoder;
import org.apache.flink.avro.shaded.org.apache.avro.io.DecoderFactory;
import org.apache.flink.avro.shaded.org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Confluent's own Java client (7.5.3, as relocated inside flink-sql-avro-confluent-registry) against the
 * embedded registry: it registers, looks up and reads schemas, and decodes bytes our serializer wrote; bytes it
 * writes are decoded by our deserializer.
 */
class ConfluentClientCompatibilityTest {

    private static SchemaRegistryServer registry;
    private static CachedSchemaRegistryClient confluent;

    @BeforeAll
    static void start() {
        RegistryConfig base = RegistryConfig.of(EmbeddedStack.shared().kafka().bootstrapServers(), 0, (short) 1);
        registry = SchemaRegistryServer.start(new RegistryConfig(base.kafka(), base.host(), 0,
                "_schemas-confluent-" + UUID.randomUUID(), (short) 1, base.defaultCompatibility()));
        confluent = new CachedSchemaRegistryClient(List.of(registry.url()), 100);
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void shouldRegisterLookUpAndReadBackWithConfluentsClient() throws Exception {
        AvroSchema schema = new AvroSchema(AgentEvent.getClassSchema().toString());

        int id = confluent.register("confluent-value", schema);

        assertThat(confluent.getId("confluent-value", schema)).isEqualTo(id);
        assertThat(confluent.getVersion("confluent-value", schema)).isEqualTo(1);
        SchemaMetadata latest = confluent.getLatestSchemaMetadata("confluent-value");
        assertThat(latest.getId()).isEqualTo(id);
        assertThat(latest.getVersion()).isEqualTo(1);
        assertThat(new CachedSchemaRegistryClient(List.of(registry.url()), 10).getSchemaById(id).canonicalString())
                .isEqualTo(schema.canonicalString());
        assertThat(confluent.getAllSubjects()).contains("confluent-value");
        assertThat(confluent.testCompatibility("confluent-value", schema)).isTrue();
    }

    @Test
    void shouldSurfaceConfluentErrorCodesToConfluentsClient() {
        assertThatThrownBy(() -> new CachedSchemaRegistryClient(List.of(registry.url()), 10).getSchemaById(9999))
                .isInstanceOfSatisfying(RestClientException.class, e -> {
                    assertThat(e.getStatus()).isEqualTo(404);
                    assertThat(e.getErrorCode()).isEqualTo(40403);
                });
    }

    @Test
    void shouldLetConfluentsClientDecodeWhatOurSerializerWrote() throws Exception {
        AvroSerializer<AgentEvent> serializer = new AvroSerializer<>(registry.client(), Map.of(), false);
        AgentEvent event = TestEvents.started("carol", "run-c1");

        byte[] bytes = serializer.serialize("ours-to-confluent", event);
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        assertThat(buffer.get()).isZero();
        int id = buffer.getInt();
        Schema writer = (Schema) confluent.getSchemaById(id).rawSchema();
        GenericRecord decoded = new GenericDatumReader<GenericRecord>(writer).read(null,
                DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));

        assertThat(decoded.get("runId").toString()).isEqualTo("run-c1");
        assertThat(decoded.get("userId").toString()).isEqualTo("carol");
        assertThat(decoded.get("occurredAt")).isEqualTo(event.getOccurredAt().toEpochMilli());
    }

    @Test
    void shouldDecodeWithOurDeserializerWhatConfluentsClientRegisteredAndWrote() throws Exception {
        Schema schema = new Schema.Parser().parse(AgentEvent.getClassSchema().toString());
        int id = confluent.register("confluent-to-ours-value", new AvroSchema(schema));
        GenericRecord agent = new GenericData.Record(schema.getField("agent").schema());
        agent.put("id", "a-1");
        agent.put("name", "Planner");
        agent.put("version", "2.0");
        GenericRecord record = new GenericData.Record(schema);
        record.put("eventId", "e-1");
        record.put("type", "agent_started");
        record.put("userId", "dave");
        record.put("threadId", "t-1");
        record.put("runId", "run-d1");
        record.put("seq", 0L);
        record.put("occurredAt", 1_700_000_000_000L);
        record.put("agent", agent);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(id).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();

        AgentEvent decoded = AvroDeserializer.specific(new SchemaRegistryClient(registry.url()), AgentEvent.class)
                .deserialize("confluent-to-ours", out.toByteArray());

        assertThat(decoded.getUserId()).isEqualTo("dave");
        assertThat(decoded.getRunId()).isEqualTo("run-d1");
        assertThat(decoded.getAgent().getName()).isEqualTo("Planner");
        assertThat(decoded.getOccurredAt().toEpochMilli()).isEqualTo(1_700_000_000_000L);
    }
}
