package dev.agentevents.fanout;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.Thinking;
import dev.agentevents.schemas.EventJson;
import dev.agentevents.schemas.HashChain;
import dev.agentevents.schemas.OrderedRecords;
import java.time.Instant;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.junit.jupiter.api.Test;

/** Frames are made from records as the node reads them: Avro binary with the writer schema, straight to JSON. */
class FrameTest {

    private static final AgentEvent EVENT = AgentEvent.newBuilder().setEventId("e-1").setType("agent_thinking")
            .setUserId("alice").setThreadId("t-1").setRunId("r-1").setSeq(3)
            .setOccurredAt(Instant.ofEpochMilli(1_790_000_000_123L))
            .setAgent(AgentInfo.newBuilder().setId("a").setName("Agent \u00e9\uD83D\uDE80").setVersion("1").build())
            .setThinking(Thinking.newBuilder().setText("line 1\nline \"2\"").build())
            .build();

    @Test
    void shouldCarryTheEventAsJsonWithItsPositionAndChainHash() throws Exception {
        OrderedEvent ordered = OrderedRecords.event(HashChain.GENESIS, EVENT, Instant.now(), null);

        Frame frame = frame(4, 17, ordered);

        JsonNode json = EventJson.MAPPER.readTree(frame.text());
        assertThat(json.fieldNames()).toIterable().containsExactly("type", "pos", "event", "chain");
        assertThat(json.path("type").asText()).isEqualTo("event");
        assertThat(json.path("pos").asText()).isEqualTo("4:17");
        assertThat(EventJson.MAPPER.writeValueAsString(json.path("event")))
                .isEqualTo(EventJson.MAPPER.writeValueAsString(EventJson.toJson(EVENT)));
        assertThat(json.path("chain").asText()).isEqualTo(ordered.getHash());
        assertThat(frame.occurredAtMs()).isEqualTo(1_790_000_000_123L);
        assertThat(frame.userId()).isEqualTo("alice");
        assertThat(frame.runId()).isEqualTo("r-1");
    }

    @Test
    void shouldDescribeAGapWithItsRangeAndReason() throws Exception {
        OrderedEvent ordered = OrderedRecords.gap(HashChain.GENESIS, "alice", "t-1", "r-1",
                Gap.newBuilder().setFromSeq(5).setToSeq(7).setWaitedMs(30_000).setReason("TIMEOUT").build(),
                Instant.now());

        Frame frame = frame(2, 9, ordered);

        assertThat(EventJson.MAPPER.readTree(frame.text())).isEqualTo(EventJson.MAPPER.readTree(
                "{\"type\":\"gap\",\"pos\":\"2:9\",\"runId\":\"r-1\",\"threadId\":\"t-1\",\"fromSeq\":5,\"toSeq\":7,"
                        + "\"reason\":\"TIMEOUT\"}"));
        assertThat(frame.hasPosition()).isTrue();
    }

    /** The frame the node makes of {@code ordered} as it reads it: Avro binary with the writer schema. */
    private static Frame frame(int partition, long offset, OrderedEvent ordered) throws Exception {
        BinaryDecoder in = DecoderFactory.get().binaryDecoder(HashChain.avroBinary(ordered), null);
        Frame frame = Frame.of(partition, offset, ordered.getSchema(), in);
        assertThat(in.isEnd()).as("the whole record is read").isTrue();
        return frame;
    }
}
