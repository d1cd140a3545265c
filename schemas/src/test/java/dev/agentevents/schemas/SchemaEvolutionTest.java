package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.event.AgentEvent;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

/** The evolution rules of the subject agent-events-value (FULL_TRANSITIVE), checked on real schema variants. */
class SchemaEvolutionTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema V1 = AgentEvent.getClassSchema();

    @Test
    void shouldAcceptNewOptionalPayloadFieldUnderFullTransitive() throws Exception {
        Schema v2 = withOptionalPayload(V1, "handoff");
        Schema v3 = withOptionalPayload(v2, "citation");

        assertThat(CompatibilityLevel.FULL_TRANSITIVE.incompatibilities(v2, List.of(V1))).isEmpty();
        assertThat(CompatibilityLevel.FULL_TRANSITIVE.incompatibilities(v3, List.of(V1, v2))).isEmpty();
    }

    @Test
    void shouldRejectRemovingRequiredFieldUnderFullTransitive() throws Exception {
        Schema withoutThreadId = withoutField(V1, "threadId");

        List<String> problems = CompatibilityLevel.FULL_TRANSITIVE.incompatibilities(withoutThreadId, List.of(V1));

        assertThat(problems).hasSize(1);
        assertThat(problems.get(0))
                .contains("existing schema #1 cannot read data written with the new schema")
                .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
                .contains("threadId");
    }

    @Test
    void shouldRejectNewRequiredFieldUnderBackwardButAcceptItUnderForward() throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(V1.toString());
        ((ArrayNode) json.get("fields")).addObject().put("name", "tenantId").put("type", "string");
        Schema withTenant = new Schema.Parser().parse(json.toString());

        assertThat(CompatibilityLevel.BACKWARD.incompatibilities(withTenant, List.of(V1)))
                .singleElement().asString().contains("tenantId");
        assertThat(CompatibilityLevel.FORWARD.incompatibilities(withTenant, List.of(V1))).isEmpty();
    }

    @Test
    void shouldCheckOnlyTheNewestVersionWhenNotTransitive() throws Exception {
        Schema withoutThreadId = withoutField(V1, "threadId");
        // a non-transitive FORWARD check against [V1, withoutThreadId] only looks at withoutThreadId
        Schema readded = withOptionalPayload(withoutThreadId, "handoff");

        assertThat(CompatibilityLevel.FORWARD.incompatibilities(readded, List.of(V1, withoutThreadId))).isEmpty();
        assertThat(CompatibilityLevel.FORWARD_TRANSITIVE.incompatibilities(readded, List.of(V1, withoutThreadId)))
                .isNotEmpty();
    }

    @Test
    void shouldLetVersionOneReaderReadEventsWrittenWithVersionTwo() throws Exception {
        Schema v2 = withOptionalPayload(V1, "handoff");
        AgentEvent original = TestEvents.thinking("alice", "run-1", 1, "checking the weather");
        GenericRecord written = new GenericData.Record(v2);
        for (Schema.Field field : V1.getFields()) {
            written.put(field.name(), GenericData.get().deepCopy(field.schema(), genericValue(original, field)));
        }
        GenericRecord handoff = new GenericData.Record(v2.getField("handoff").schema().getTypes().get(1));
        handoff.put("text", "to the billing agent");
        written.put("handoff", handoff);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(v2).write(written, encoder);
        encoder.flush();
        AgentEvent read = new SpecificDatumReader<AgentEvent>(v2, V1)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));

        assertThat(read).isEqualTo(original);
    }

    private static Object genericValue(AgentEvent event, Schema.Field field) {
        Object value = event.get(field.pos());
        if (value instanceof java.time.Instant instant) {
            return instant.toEpochMilli();
        }
        if (value instanceof org.apache.avro.specific.SpecificRecord record) {
            GenericRecord copy = new GenericData.Record(record.getSchema());
            record.getSchema().getFields().forEach(f -> copy.put(f.name(), record.get(f.pos())));
            return copy;
        }
        return value;
    }

    static Schema withOptionalPayload(Schema base, String fieldName) throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(base.toString());
        ObjectNode field = ((ArrayNode) json.get("fields")).addObject();
        field.put("name", fieldName);
        ArrayNode union = field.putArray("type");
        union.add("null");
        ObjectNode record = union.addObject();
        record.put("type", "record");
        record.put("name", Character.toUpperCase(fieldName.charAt(0)) + fieldName.substring(1));
        record.putArray("fields").addObject().put("name", "text").put("type", "string");
        field.putNull("default");
        return new Schema.Parser().parse(json.toString());
    }

    private static Schema withoutField(Schema base, String fieldName) throws Exception {
        ObjectNode json = (ObjectNode) JSON.readTree(base.toString());
        ArrayNode fields = (ArrayNode) json.get("fields");
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).get("name").asText().equals(fieldName)) {
                fields.remove(i);
                break;
            }
        }
        return new Schema.Parser().parse(json.toString());
    }
}
