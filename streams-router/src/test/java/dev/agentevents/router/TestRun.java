package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Failed;
import dev.agentevents.event.MessageDelta;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds the events of one run for tests, valid or not, with fresh event ids. */
final class TestRun {

    final String userId;
    final String runId;
    final String threadId;

    TestRun(String userId, String runId) {
        this.userId = userId;
        this.runId = runId;
        this.threadId = "thread-" + userId;
    }

    AgentEvent.Builder base(long seq, String type) {
        return AgentEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setType(type)
                .setUserId(userId)
                .setThreadId(threadId)
                .setRunId(runId)
                .setSeq(seq)
                .setOccurredAt(Instant.ofEpochMilli(1_800_000_000_000L + seq))
                .setAgent(AgentInfo.newBuilder().setId("agent-1").setName("Researcher").setVersion("1.0").build())
                .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .setSpanId("00f067aa0ba902b7");
    }

    AgentEvent started() {
        return base(0, "agent_started").build();
    }

    AgentEvent thinking(long seq) {
        return base(seq, "agent_thinking").setThinking(new Thinking("step " + seq)).build();
    }

    AgentEvent delta(long seq) {
        return base(seq, "agent_message_delta").setMessageDelta(new MessageDelta("word" + seq + " ")).build();
    }

    AgentEvent toolExecuting(long seq, String callId) {
        return base(seq, "tool_executing").setToolCallId(callId)
                .setToolCall(new ToolCall("web_search", "{\"q\":\"" + seq + "\"}")).build();
    }

    AgentEvent toolCompleted(long seq, String callId) {
        return base(seq, "tool_completed").setToolCallId(callId)
                .setToolResult(new ToolResult("{\"hits\":1}", false, 12L)).build();
    }

    AgentEvent completed(long seq) {
        return base(seq, "agent_completed").setCompleted(new Completed("{\"ok\":true}", 10L, 20L, "stop")).build();
    }

    AgentEvent failed(long seq) {
        return base(seq, "agent_failed").setFailed(new Failed("MODEL_ERROR", "bad output", true)).build();
    }

    /** The five lifecycle events and more: started, thinking, tool call, result, delta, completed (seq 0..5). */
    List<AgentEvent> complete() {
        List<AgentEvent> events = new ArrayList<>();
        events.add(started());
        events.add(thinking(1));
        events.add(toolExecuting(2, "call-1"));
        events.add(toolCompleted(3, "call-1"));
        events.add(delta(4));
        events.add(completed(5));
        return events;
    }
}
