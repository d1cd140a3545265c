package dev.agentevents.schemas;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Thinking;
import java.time.Instant;

/** Events for tests. */
final class TestEvents {

    private TestEvents() {
    }

    static AgentEvent thinking(String userId, String runId, long seq, String text) {
        return AgentEvent.newBuilder()
                .setEventId("evt-" + runId + "-" + seq)
                .setType(EventType.AGENT_THINKING.wireName())
                .setUserId(userId)
                .setThreadId("thread-1")
                .setRunId(runId)
                .setSeq(seq)
                .setOccurredAt(Instant.ofEpochMilli(1_700_000_000_000L + seq))
                .setAgent(AgentInfo.newBuilder().setId("agent-1").setName("Researcher").setVersion("1.0").build())
                .setThinking(Thinking.newBuilder().setText(text).build())
                .build();
    }
}
