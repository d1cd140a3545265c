package dev.agentevents.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Failed;
import dev.agentevents.event.MessageDelta;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

class NullableUnionWriterTest {

    @Test
    void shouldWriteTheBytesAvrosOwnWriterWritesWithOptionalFieldsSetAndUnset() throws IOException {
        AgentEvent bare = TestEvents.started("user-1", "run-1");
        AgentEvent everything = AgentEvent.newBuilder(TestEvents.thinking("user-ü", "run-2", 3, "😀 — ü"))
                .setParentRunId("run-1").setTraceId("4bf92f3577b34da6a3ce929d0e0e4736").setSpanId("00f067aa0ba902b7")
                .setToolCallId("call-1").setToolCall(new ToolCall("search", "{}"))
                .setToolResult(new ToolResult("{\"hits\":0}", true, 7L))
                .setCompleted(new Completed("{}", null, 3L, "stop"))
                .setFailed(new Failed("X", "y", false)).setMessageDelta(new MessageDelta("z"))
                .build();
        DatumWriter<AgentEvent> avro = new SpecificDatumWriter<>(AgentEvent.getClassSchema(),
                SpecificData.getForSchema(AgentEvent.getClassSchema()));
        DatumWriter<AgentEvent> ours = new NullableUnionWriter<>(AgentEvent.getClassSchema());

        for (AgentEvent event : List.of(bare, everything)) {
            assertThat(bytes(ours, event)).isEqualTo(bytes(avro, event));
        }
        assertThat(bytes(ours, everything)).isNotEqualTo(bytes(ours, bare));
    }

    private static byte[] bytes(DatumWriter<AgentEvent> writer, AgentEvent event) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        writer.write(event, encoder);
        encoder.flush();
        return out.toByteArray();
    }
}
