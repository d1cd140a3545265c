package dev.agentevents.producer;

import dev.agentevents.event.AgentInfo;
import java.util.Objects;

/**
 * What starts a run: whose it is, which conversation, which agent. {@code runId} may be null (a UUID is made);
 * {@code parentRunId} is set for sub-agent runs; {@code traceId} carries an existing W3C trace (32 hex digits),
 * or null to start a new one.
 */
public record RunStart(String userId, String threadId, String runId, String parentRunId, AgentInfo agent,
                       String traceId) {

    public RunStart {
        Objects.requireNonNull(agent, "agent must not be null");
    }

    public static RunStart of(String userId, String threadId, AgentInfo agent) {
        return new RunStart(userId, threadId, null, null, agent, null);
    }

    public RunStart withRunId(String id) {
        return new RunStart(userId, threadId, id, parentRunId, agent, traceId);
    }

    public RunStart withParentRunId(String id) {
        return new RunStart(userId, threadId, runId, id, agent, traceId);
    }

    public RunStart withTraceId(String id) {
        return new RunStart(userId, threadId, runId, parentRunId, agent, id);
    }
}
