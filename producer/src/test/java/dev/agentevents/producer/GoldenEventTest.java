package dev.agentevents.producer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Completed;
import dev.agentevents.event.ToolResult;
import dev.agentevents.schemas.HashChain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The Java and the Python publisher write the same bytes for the same event: both hold the Avro binary of the events
 * in {@code producer-python/tests/golden/agent_events.json} (the Python side in {@code tests/test_golden.py}).
 */
class GoldenEventTest {

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static Long number(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asLong();
    }

    private static AgentEvent event(JsonNode json) {
        JsonNode agent = json.get("agent");
        AgentEvent.Builder builder = AgentEvent.newBuilder()
                .setEventId(text(json, "eventId")).setType(text(json, "type")).setUserId(text(json, "userId"))
                .setThreadId(text(json, "threadId")).setRunId(text(json, "runId"))
                .setParentRunId(text(json, "parentRunId")).setSeq(json.get("seq").asLong())
                .setOccurredAt(Instant.ofEpochMilli(json.get("occurredAt").asLong()))
                .setAgent(AgentInfo.newBuilder().setId(text(agent, "id")).setName(text(agent, "name"))
                        .setVersion(text(agent, "version")).setModel(text(agent, "model")).build())
                .setTraceId(text(json, "traceId")).setSpanId(text(json, "spanId"))
                .setToolCallId(text(json, "toolCallId"));
        if (json.hasNonNull("toolResult")) {
            JsonNode result = json.get("toolResult");
            builder.setToolResult(new ToolResult(text(result, "contentJson"), result.get("isError").asBoolean(),
                    result.get("durationMs").asLong()));
        }
        if (json.hasNonNull("completed")) {
            JsonNode completed = json.get("completed");
            builder.setCompleted(new Completed(text(completed, "resultJson"), number(completed, "inputTokens"),
                    number(completed, "outputTokens"), text(completed, "finishReason")));
        }
        return builder.build();
    }

    @Test
    void shouldEncodeTheGoldenEventsToTheBytesThePythonPublisherWrites() throws Exception {
        JsonNode golden = new ObjectMapper().readTree(Files.readString(
                Path.of("..", "producer-python", "tests", "golden", "agent_events.json")));
        assertThat(golden.get("events")).hasSizeGreaterThanOrEqualTo(2);
        for (JsonNode entry : golden.get("events")) {
            AgentEvent event = event(entry.get("event"));
            assertThat(HexFormat.of().formatHex(HashChain.avroBinary(event))).as(event.getType())
                    .isEqualTo(entry.get("avroHex").asText());
        }
    }
}
