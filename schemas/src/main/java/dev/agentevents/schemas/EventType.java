package dev.agentevents.schemas;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The event types this version of the pipeline understands. On the wire {@code AgentEvent.type} is a
 * plain string so that producers can add types before every reader knows them; readers map it here and
 * treat anything else as unknown.
 */
public enum EventType {
    AGENT_STARTED("agent_started", false),
    AGENT_THINKING("agent_thinking", false),
    TOOL_EXECUTING("tool_executing", false),
    TOOL_COMPLETED("tool_completed", false),
    AGENT_MESSAGE_DELTA("agent_message_delta", false),
    AGENT_COMPLETED("agent_completed", true),
    AGENT_FAILED("agent_failed", true);

    private static final Map<String, EventType> BY_WIRE_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(EventType::wireName, Function.identity()));

    private final String wireName;
    private final boolean terminal;

    EventType(String wireName, boolean terminal) {
        this.wireName = wireName;
        this.terminal = terminal;
    }

    /** The string carried in {@code AgentEvent.type}. */
    public String wireName() {
        return wireName;
    }

    /** Whether this event ends its run: nothing may follow it. */
    public boolean isTerminal() {
        return terminal;
    }

    /** The type named by {@code wireName}, or empty when this version does not know it. */
    public static Optional<EventType> fromWireName(String wireName) {
        return Optional.ofNullable(wireName == null ? null : BY_WIRE_NAME.get(wireName));
    }

    @Override
    public String toString() {
        return wireName;
    }
}
