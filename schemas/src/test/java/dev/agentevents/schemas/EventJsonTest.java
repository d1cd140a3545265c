package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.ToolResult;
import java.io.StringWriter;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

class EventJsonTest {

    @Test
    void shouldWriteFieldsInSchemaOrderLeavingOutNullsWithTimestampsAsEpochMillis() throws Exception {
        String text = "NUL \u0000, emoji \uD83D\uDE80, \"quoted\"";
        AgentEvent event = AgentEvent.newBuilder(TestEvents.thinking("u-1", "r-1", 2, text))
                .setToolCallId("call-7")
                .setToolResult(ToolResult.newBuilder().setContentJson("{}").setIsError(false).setDurationMs(42).build())
                .build();

        StringWriter json = new StringWriter();
        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(json)) {
            EventJson.write(out, event);
        }

        assertThat(json.toString()).isEqualTo("{\"eventId\":\"evt-r-1-2\",\"type\":\"agent_thinking\","
                + "\"userId\":\"u-1\","
                + "\"threadId\":\"thread-1\",\"runId\":\"r-1\",\"seq\":2,\"occurredAt\":1700000000002,"
                + "\"agent\":{\"id\":\"agent-1\",\"name\":\"Researcher\",\"version\":\"1.0\"},"
                + "\"toolCallId\":\"call-7\","
                + "\"thinking\":{\"text\":\"NUL \\u0000, emoji \uD83D\uDE80, \\\"quoted\\\"\"},"
                + "\"toolResult\":{\"contentJson\":\"{}\",\"isError\":false,\"durationMs\":42}}");
    }

    @Test
    void shouldGiveTheSameJsonForTheSpecificRecordAsTreeAndTheGenericOneWritten() throws Exception {
        AgentEvent event = TestEvents.thinking("u-1", "r-1", 0, "first");
        // as the fanout node reads it: generic, timestamps as plain longs
        GenericRecord generic = new GenericDatumReader<GenericRecord>(event.getSchema())
                .read(null, DecoderFactory.get().binaryDecoder(HashChain.avroBinary(event), null));

        StringWriter text = new StringWriter();
        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(text)) {
            EventJson.write(out, generic);
        }

        assertThat(EventJson.MAPPER.writeValueAsString(EventJson.toJson(event))).isEqualTo(text.toString());
        assertThat(EventJson.toJson(event).path("occurredAt").isIntegralNumber()).isTrue();
        assertThat(EventJson.toJson(event).has("parentRunId")).isFalse();
    }
}
