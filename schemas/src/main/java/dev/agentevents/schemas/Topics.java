package dev.agentevents.schemas;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.OrderedEvent;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The names of the pipeline's topics and the serdes of their values, in one place.
 *
 * <p>Every name carries the same configurable prefix ({@code AGENT_EVENTS_TOPIC_PREFIX}, default empty), so
 * several environments can share a cluster. Keys are always the user id as a UTF-8 string
 * ({@code Serdes.String()}); values of {@link #events()} and {@link #ordered()} are Avro in the Confluent
 * wire format, subjects by TopicNameStrategy.
 */
public record Topics(String prefix) {

    /** Partition count at creation. Changing it re-maps users to partitions: a migration, not a setting. */
    public static final int DEFAULT_PARTITIONS = 12;

    /** The environment variable that sets the prefix. */
    public static final String PREFIX_VARIABLE = "AGENT_EVENTS_TOPIC_PREFIX";

    private static final Pattern LEGAL_PREFIX = Pattern.compile("[a-zA-Z0-9._-]*");

    public Topics {
        Objects.requireNonNull(prefix, "topic prefix must not be null (use \"\" for none)");
        if (!LEGAL_PREFIX.matcher(prefix).matches() || prefix.length() > 200) {
            throw new IllegalArgumentException("topic prefix '" + prefix
                    + "' is not legal: use up to 200 of the characters a-z A-Z 0-9 . _ -");
        }
    }

    /** Topics without a prefix: {@code agent-events}, {@code agent-events-ordered}, {@code agent-events-dlq}. */
    public static Topics defaults() {
        return new Topics("");
    }

    /** Topics named by {@value #PREFIX_VARIABLE} in {@code env}. */
    public static Topics fromEnv(Map<String, String> env) {
        return new Topics(env.getOrDefault(PREFIX_VARIABLE, ""));
    }

    /** Input: what agent services publish, key = userId, value = {@link AgentEvent}. */
    public String events() {
        return prefix + "agent-events";
    }

    /** Output of the router: validated, deduplicated, per-run ordered {@link OrderedEvent}s, same partitioning. */
    public String ordered() {
        return prefix + "agent-events-ordered";
    }

    /** Rejected input: original key and value bytes, with headers that say why (see {@link DeadLetterHeaders}). */
    public String deadLetters() {
        return prefix + "agent-events-dlq";
    }

    public List<String> all() {
        return List.of(events(), ordered(), deadLetters());
    }

    /** The registry subject of a topic's values (TopicNameStrategy). */
    public static String valueSubject(String topic) {
        return topic + "-value";
    }
}
