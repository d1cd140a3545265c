package dev.agentevents.producer;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Completed;
import dev.agentevents.event.Failed;
import dev.agentevents.event.MessageDelta;
import dev.agentevents.event.Thinking;
import dev.agentevents.event.ToolCall;
import dev.agentevents.event.ToolResult;
import dev.agentevents.schemas.EventType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * One run of an agent for one user, as its events are published: {@code agent_started} (sent by
 * {@link EventPublisher#startRun}), then any of {@link #thinking}, {@link #messageDelta}, {@link #toolExecuting} /
 * {@link #toolCompleted}, and finally {@link #completed} or {@link #failed}. Thread-safe: calls are numbered in
 * the order they are made. Misuse fails at the call, naming the run and the problem: an event after the
 * terminal one, a result for a tool call that is not executing, a blank id, a payload over the size limit.
 */
public final class AgentRun {

    private static final Pattern TRACE_ID = Pattern.compile("[0-9a-f]{32}");
    private static final HexFormat HEX = HexFormat.of();

    private final EventPublisher publisher;
    private final String userId;
    private final String threadId;
    private final String runId;
    private final String parentRunId;
    private final dev.agentevents.event.AgentInfo agent;
    private final String traceId;
    private final String runSpanId;
    private final CompletableFuture<Published> started;
    private final Map<String, OpenToolCall> openToolCalls = new LinkedHashMap<>();
    private long nextSeq;
    private AgentEvent terminal;

    private record OpenToolCall(Instant startedAt, String spanId) {
    }

    private AgentRun(EventPublisher publisher, RunStart start) {
        this.publisher = publisher;
        this.userId = requireId("userId", start.userId(), start.runId());
        this.threadId = requireId("threadId", start.threadId(), start.runId());
        this.runId = start.runId() == null ? UUID.randomUUID().toString() : requireId("runId", start.runId(), null);
        this.parentRunId = start.parentRunId();
        this.agent = start.agent();
        requireId("agent.id", agent.getId(), runId);
        requireId("agent.name", agent.getName(), runId);
        requireId("agent.version", agent.getVersion(), runId);
        if (start.traceId() != null && !TRACE_ID.matcher(start.traceId()).matches()) {
            throw new IllegalArgumentException("run " + runId + ": traceId '" + start.traceId()
                    + "' is not 32 lower-case hex digits (W3C trace context)");
        }
        this.traceId = start.traceId() != null ? start.traceId() : randomHex(16);
        this.runSpanId = randomHex(8);
        this.started = publish(EventType.AGENT_STARTED, null, runSpanId, b -> { });
    }

    static AgentRun start(EventPublisher publisher, RunStart start) {
        return new AgentRun(publisher, start);
    }

    public String runId() {
        return runId;
    }

    public String userId() {
        return userId;
    }

    public String threadId() {
        return threadId;
    }

    /** The acknowledgement of this run's {@code agent_started}. */
    public CompletableFuture<Published> started() {
        return started;
    }

    /** {@code agent_thinking}: a piece of the agent's reasoning, shown while it works. */
    public synchronized CompletableFuture<Published> thinking(String text) {
        checkPayload(EventType.AGENT_THINKING, "text", text);
        return publish(EventType.AGENT_THINKING, null, runSpanId,
                b -> b.setThinking(Thinking.newBuilder().setText(text).build()));
    }

    /** {@code agent_message_delta}: the next piece of streamed answer text. */
    public synchronized CompletableFuture<Published> messageDelta(String text) {
        checkPayload(EventType.AGENT_MESSAGE_DELTA, "text", text);
        return publish(EventType.AGENT_MESSAGE_DELTA, null, runSpanId,
                b -> b.setMessageDelta(MessageDelta.newBuilder().setText(text).build()));
    }

    /** {@code tool_executing}: tool {@code toolName} starts with {@code argumentsJson}; {@code toolCallId} links its result. */
    public synchronized CompletableFuture<Published> toolExecuting(String toolCallId, String toolName,
                                                                   String argumentsJson) {
        requireId("toolCallId", toolCallId, runId);
        requireId("toolName", toolName, runId);
        checkOpen(EventType.TOOL_EXECUTING);
        if (openToolCalls.containsKey(toolCallId)) {
            throw new IllegalStateException("run " + runId + " of user " + userId + ": tool call '" + toolCallId
                    + "' is already executing");
        }
        checkPayload(EventType.TOOL_EXECUTING, "argumentsJson", argumentsJson);
        String spanId = randomHex(8);
        CompletableFuture<Published> future = publish(EventType.TOOL_EXECUTING, toolCallId, spanId,
                b -> b.setToolCall(ToolCall.newBuilder().setToolName(toolName).setArgumentsJson(argumentsJson).build()));
        openToolCalls.put(toolCallId, new OpenToolCall(publisher.clock().instant(), spanId));
        return future;
    }

    /** {@code tool_completed}: the result of an executing tool call; its duration is measured from {@link #toolExecuting}. */
    public synchronized CompletableFuture<Published> toolCompleted(String toolCallId, String resultJson,
                                                                   boolean isError) {
        requireId("toolCallId", toolCallId, runId);
        checkOpen(EventType.TOOL_COMPLETED);
        OpenToolCall call = openToolCalls.get(toolCallId);
        if (call == null) {
            throw new IllegalStateException("run " + runId + " of user " + userId + ": tool_completed for tool call '"
                    + toolCallId + "', which is not executing (executing: " + openToolCalls.keySet() + ")");
        }
        checkPayload(EventType.TOOL_COMPLETED, "resultJson", resultJson);
        long durationMs = Math.max(0, publisher.clock().millis() - call.startedAt().toEpochMilli());
        CompletableFuture<Published> future = publish(EventType.TOOL_COMPLETED, toolCallId, call.spanId(),
                b -> b.setToolResult(ToolResult.newBuilder().setContentJson(resultJson).setIsError(isError)
                        .setDurationMs(durationMs).build()));
        openToolCalls.remove(toolCallId);
        return future;
    }

    /** {@code agent_completed}: the run's result; nothing may follow it. */
    public synchronized CompletableFuture<Published> completed(String resultJson, Usage usage) {
        Objects.requireNonNull(usage, "usage must not be null (use Usage.unknown(finishReason))");
        requireId("usage.finishReason", usage.finishReason(), runId);
        checkPayload(EventType.AGENT_COMPLETED, "resultJson", resultJson);
        return publish(EventType.AGENT_COMPLETED, null, runSpanId, b -> b.setCompleted(Completed.newBuilder()
                .setResultJson(resultJson).setInputTokens(usage.inputTokens()).setOutputTokens(usage.outputTokens())
                .setFinishReason(usage.finishReason()).build()));
    }

    /** {@code agent_failed}: the run ended in error ({@code code}, e.g. TOOL_TIMEOUT) or was cancelled (CANCELLED). */
    public synchronized CompletableFuture<Published> failed(String code, String message, boolean retryable) {
        requireId("code", code, runId);
        checkPayload(EventType.AGENT_FAILED, "message", message);
        return publish(EventType.AGENT_FAILED, null, runSpanId, b -> b.setFailed(Failed.newBuilder().setCode(code)
                .setMessage(message).setRetryable(retryable).build()));
    }

    /** As {@link #failed(String, String, boolean)}, not retryable. */
    public CompletableFuture<Published> failed(String code, String message) {
        return failed(code, message, false);
    }

    /** Sends again, unchanged, an event of this run that was not acknowledged. */
    public CompletableFuture<Published> resend(PublishException failure) {
        AgentEvent event = failure.event();
        if (!event.getRunId().equals(runId) || !event.getUserId().equals(userId)) {
            throw new IllegalArgumentException("run " + runId + " of user " + userId + ": cannot resend event "
                    + event.getEventId() + " of run " + event.getRunId() + " of user " + event.getUserId());
        }
        return publisher.send(event);
    }

    /** Whether the terminal event was published. */
    public synchronized boolean isEnded() {
        return terminal != null;
    }

    private interface Payload {
        void set(AgentEvent.Builder builder);
    }

    private CompletableFuture<Published> publish(EventType type, String toolCallId, String spanId, Payload payload) {
        checkOpen(type);
        AgentEvent.Builder builder = AgentEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setType(type.wireName())
                .setUserId(userId)
                .setThreadId(threadId)
                .setRunId(runId)
                .setParentRunId(parentRunId)
                .setSeq(nextSeq)
                .setOccurredAt(publisher.clock().instant())
                .setAgent(agent)
                .setTraceId(traceId)
                .setSpanId(spanId)
                .setToolCallId(toolCallId);
        payload.set(builder);
        AgentEvent event = builder.build();
        nextSeq++;
        if (type.isTerminal()) {
            terminal = event;
        }
        return publisher.send(event);
    }

    private void checkOpen(EventType next) {
        if (terminal != null) {
            throw new IllegalStateException("run " + runId + " of user " + userId + " already ended with "
                    + terminal.getType() + " (seq " + terminal.getSeq() + "); " + next + " may not follow it");
        }
    }

    private void checkPayload(EventType type, String field, String text) {
        checkOpen(type);
        Objects.requireNonNull(text, () -> "run " + runId + ": " + type + " " + field + " must not be null");
        int limit = publisher.config().maxPayloadBytes();
        // UTF-8 needs at most 3 bytes per char: only count when it could matter
        if ((long) text.length() * 3 > limit) {
            int bytes = text.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > limit) {
                throw new IllegalArgumentException("run " + runId + " of user " + userId + ": " + type + " " + field
                        + " of " + bytes + " bytes exceeds the limit of " + limit
                        + " bytes (PUBLISHER_MAX_PAYLOAD_BYTES)");
            }
        }
    }

    private static String requireId(String name, String value, String runId) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException((runId == null ? "" : "run " + runId + ": ") + name
                    + " must not be " + (value == null ? "null" : "blank"));
        }
        return value;
    }

    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(random);
        return HEX.formatHex(random);
    }
}
