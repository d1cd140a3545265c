package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.ToolResult;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
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

    @Test
    void shouldTranscodeAvroBinaryToTheJsonThatWritingTheDecodedRecordGives() throws Exception {
        String text = "NUL \u0000, tab \t, emoji \uD83D\uDE80, \"quoted\", caf\u00e9";
        AgentEvent event = AgentEvent.newBuilder(TestEvents.thinking("u-1", "r-1", 2, text))
                .setToolCallId("call-7")
                .setToolResult(ToolResult.newBuilder().setContentJson("{\"a\":[1,2]}").setIsError(true)
                        .setDurationMs(42).build())
                .build();
        assertTranscodesAsWritten(event.getSchema(), HashChain.avroBinary(event));
        assertTranscodesAsWritten(TestEvents.started("u-2", "r-2").getSchema(),
                HashChain.avroBinary(TestEvents.started("u-2", "r-2")));
    }

    @Test
    void shouldTranscodeEveryAvroTypeAsWriteDoes() throws Exception {
        Schema schema = SchemaBuilder.record("Every").fields()
                .name("e").type().enumeration("Colour").symbols("RED", "GREEN").noDefault()
                .name("i").type().intType().noDefault()
                .name("l").type().longType().noDefault()
                .name("f").type().floatType().noDefault()
                .name("d").type().doubleType().noDefault()
                .name("b").type().booleanType().noDefault()
                .name("bytes").type().bytesType().noDefault()
                .name("fixed").type().fixed("Four").size(4).noDefault()
                .name("array").type().array().items().stringType().noDefault()
                .name("map").type().map().values().longType().noDefault()
                .name("absent").type().optional().stringType()
                .name("present").type().optional().record("Inner").fields().requiredString("s").endRecord()
                .name("nothing").type().nullType().noDefault()
                .endRecord();
        Schema inner = schema.getField("present").schema().getTypes().get(1);
        GenericRecord record = new GenericRecordBuilder(schema)
                .set("e", new GenericData.EnumSymbol(schema.getField("e").schema(), "GREEN"))
                .set("i", -7).set("l", 1L << 40).set("f", 1.5f).set("d", -0.25).set("b", true)
                .set("bytes", ByteBuffer.wrap(new byte[] {0, 1, (byte) 0xff}))
                .set("fixed", new GenericData.Fixed(schema.getField("fixed").schema(), new byte[] {1, 2, 3, 4}))
                .set("array", List.of("x", "\u00fc", "\"")).set("map", Map.of("k\u00e9y", 3L))
                .set("absent", null).set("present", new GenericRecordBuilder(inner).set("s", "in").build())
                .set("nothing", null)
                .build();
        ByteArrayOutputStream binary = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(binary, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();

        assertTranscodesAsWritten(schema, binary.toByteArray());
    }

    @Test
    void shouldNeverPassMalformedUtf8Through() throws Exception {
        Schema schema = SchemaBuilder.record("S").fields().requiredString("s").endRecord();
        // a string of 0xC3 0x28: not UTF-8; written as the replacement character, as decoding would
        byte[] binary = {4, (byte) 0xc3, 0x28};

        String json = transcode(schema, binary);

        assertThat(json).isEqualTo("{\"s\":\"\uFFFD(\"}");
    }

    private static void assertTranscodesAsWritten(Schema schema, byte[] binary) throws Exception {
        GenericRecord decoded = new GenericDatumReader<GenericRecord>(schema)
                .read(null, DecoderFactory.get().binaryDecoder(binary, null));
        StringWriter written = new StringWriter();
        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(written)) {
            EventJson.write(out, decoded);
        }
        assertThat(transcode(schema, binary)).isEqualTo(written.toString());
    }

    private static String transcode(Schema schema, byte[] binary) throws Exception {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(binary, null);
        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(json, JsonEncoding.UTF8)) {
            EventJson.transcodeRecord(out, schema, in, null);
        }
        assertThat(in.isEnd()).as("every byte read").isTrue();
        return json.toString(StandardCharsets.UTF_8);
    }
}
