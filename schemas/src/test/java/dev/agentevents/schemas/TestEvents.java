package dev.agentevents.schemas;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Thinking;
import java.time.Instant;

/** Events for tests, shared with other modules' tests through this module's test jar. */
public final class TestEvents {

    private TestEvents() {
    }

    public static AgentEvent started(String userId, String runId) {
        return base(userId, runId, 0, EventType.AGENT_STARTED).build();
    }

    public static AgentEvent thinking(String userId, String runId, long seq, String text) {
        return base(userId, runId, seq, EventType.AGENT_THINKING)
                .setThinking(Thinking.newBuilder().setText(text).build())
                .build();
    }

    private static AgentEvent.Builder base(String userId, String runId, long seq, EventType type) {
        return AgentEvent.newBuilder()
                .setEventId("evt-" + runId + "-" + seq)
                .setType(type.wireName())
                .setUserId(userId)
                .setThreadId("thread-1")
                .setRunId(runId)
                .setSeq(seq)
                .setOccurredAt(Instant.ofEpochMilli(1_700_000_000_000L + seq))
                .setAgent(AgentInfo.newBuilder().setId("agent-1").setName("Researcher").setVersion("1.0").build());
    }
}
