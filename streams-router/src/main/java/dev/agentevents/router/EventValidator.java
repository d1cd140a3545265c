package dev.agentevents.router;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.AgentInfo;
import dev.agentevents.schemas.EventType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The checks an input record must pass on its own, before its run is looked at: size, key, ids, type, seq, numbers
 * and payload, each limit of {@link RouterLimits} with its own {@link RejectReason}. Messages quote input only
 * capped ({@link DeadLetters#quote}).
 */
final class EventValidator {

    /** The latest {@code occurredAt} a browser's {@code Date} can hold, in epoch milliseconds. */
    static final long MAX_TIMESTAMP_MS = 8_640_000_000_000_000L;

    private final RouterLimits limits;

    EventValidator(RouterLimits limits) {
        this.limits = limits;
    }

    /** Rejects a value over {@code ROUTER_MAX_EVENT_BYTES}; the value is not decoded at all when it is. */
    boolean oversized(byte[] rawValue) {
        return rawValue != null && rawValue.length > limits.maxEventBytes();
    }

    void validate(byte[] rawKey, IncomingEvent incoming) throws Rejection {
        if (incoming.event() == null || oversized(incoming.rawValue())) {
            throw new Rejection(RejectReason.OVERSIZED, "record of " + incoming.rawValue().length
                    + " bytes exceeds ROUTER_MAX_EVENT_BYTES " + limits.maxEventBytes());
        }
        if (rawKey != null && rawKey.length > limits.maxIdBytes()) {
            throw new Rejection(RejectReason.KEY_TOO_LONG, "record key of " + rawKey.length
                    + " bytes exceeds ROUTER_MAX_ID_BYTES " + limits.maxIdBytes());
        }
        AgentEvent event = incoming.event();
        requireId("eventId", event.getEventId());
        requireId("userId", event.getUserId());
        requireId("threadId", event.getThreadId());
        requireId("runId", event.getRunId());
        limitId("parentRunId", event.getParentRunId());
        limitId("toolCallId", event.getToolCallId());
        limitId("traceId", event.getTraceId());
        limitId("spanId", event.getSpanId());
        AgentInfo agent = event.getAgent();
        limitId("agent.id", agent.getId());
        limitId("agent.name", agent.getName());
        limitId("agent.version", agent.getVersion());
        limitId("agent.model", agent.getModel());
        String key = utf8(rawKey);
        if (!event.getUserId().equals(key)) {
            throw new Rejection(RejectReason.KEY_USER_MISMATCH, key == null
                    ? "record key is missing or not UTF-8 but the event's userId is "
                            + DeadLetters.quote(event.getUserId())
                    : "record key " + DeadLetters.quote(key) + " is not the event's userId "
                            + DeadLetters.quote(event.getUserId()));
        }
        EventType type = EventType.fromWireName(event.getType()).orElseThrow(() -> new Rejection(
                RejectReason.UNKNOWN_TYPE, "unknown event type " + DeadLetters.quote(event.getType()) + " (known: "
                        + List.of(EventType.values()) + ")"));
        validateSeq(event, type);
        validateNumbers(event);
        String missing = switch (type) {
            case AGENT_STARTED -> null;
            case AGENT_THINKING -> event.getThinking() == null ? "thinking" : null;
            case AGENT_MESSAGE_DELTA -> event.getMessageDelta() == null ? "messageDelta" : null;
            case TOOL_EXECUTING -> event.getToolCall() == null ? "toolCall" : blank(event.getToolCallId());
            case TOOL_COMPLETED -> event.getToolResult() == null ? "toolResult" : blank(event.getToolCallId());
            case AGENT_COMPLETED -> event.getCompleted() == null ? "completed" : null;
            case AGENT_FAILED -> event.getFailed() == null ? "failed" : null;
        };
        if (missing != null) {
            throw new Rejection(RejectReason.MISSING_PAYLOAD, event.getType() + " needs " + missing);
        }
    }

    private static void validateSeq(AgentEvent event, EventType type) throws Rejection {
        long seq = event.getSeq();
        if (seq < 0) {
            throw new Rejection(RejectReason.INVALID_SEQ, "seq " + seq + " is negative");
        }
        if (seq > RouterLimits.MAX_SAFE_NUMBER || (seq == RouterLimits.MAX_SAFE_NUMBER && !type.isTerminal())) {
            throw new Rejection(RejectReason.INVALID_SEQ, "seq " + seq + " is beyond " + RouterLimits.MAX_SAFE_NUMBER
                    + " (2^53 - 1, the largest a browser holds exactly; only a terminal event may take it)");
        }
        if ((type == EventType.AGENT_STARTED) != (seq == 0)) {
            throw new Rejection(RejectReason.INVALID_SEQ, type == EventType.AGENT_STARTED
                    ? "agent_started has seq " + seq + "; it must be 0"
                    : event.getType() + " has seq 0, which belongs to agent_started");
        }
    }

    private static void validateNumbers(AgentEvent event) throws Rejection {
        long occurredAt = event.getOccurredAt().toEpochMilli();
        if (occurredAt < 0 || occurredAt > MAX_TIMESTAMP_MS) {
            throw new Rejection(RejectReason.INVALID_NUMBER, "occurredAt " + occurredAt + " ms is outside 0.."
                    + MAX_TIMESTAMP_MS);
        }
        if (event.getToolResult() != null) {
            number("toolResult.durationMs", event.getToolResult().getDurationMs());
        }
        if (event.getCompleted() != null) {
            number("completed.inputTokens", event.getCompleted().getInputTokens());
            number("completed.outputTokens", event.getCompleted().getOutputTokens());
        }
    }

    private static void number(String name, Long value) throws Rejection {
        if (value != null && (value < 0 || value > RouterLimits.MAX_SAFE_NUMBER)) {
            throw new Rejection(RejectReason.INVALID_NUMBER, name + " " + value + " is outside 0.."
                    + RouterLimits.MAX_SAFE_NUMBER);
        }
    }

    private static String blank(String toolCallId) {
        return toolCallId == null || toolCallId.isBlank() ? "toolCallId" : null;
    }

    private void requireId(String name, String value) throws Rejection {
        if (value == null || value.isBlank()) {
            throw new Rejection(RejectReason.MISSING_FIELD, name + " is blank");
        }
        limitId(name, value);
    }

    private void limitId(String name, String value) throws Rejection {
        if (value != null && value.length() > limits.maxIdBytes() / 3) {
            long bytes = utf8Length(value);
            if (bytes > limits.maxIdBytes()) {
                throw new Rejection(RejectReason.ID_TOO_LONG, name + " has " + bytes + " bytes (UTF-8); at most "
                        + limits.maxIdBytes() + " are allowed (ROUTER_MAX_ID_BYTES)");
            }
        }
    }

    /** The length of {@code text} in UTF-8, without encoding it. */
    static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static String utf8(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
