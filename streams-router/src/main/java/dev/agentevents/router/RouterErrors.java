package dev.agentevents.router;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the router's processor and Kafka Streams' exception handlers share about failures, one per router instance
 * (handed to the handlers through the Streams configuration under {@link #CONFIG_KEY}): the counters, the dead-letter
 * budget, and the input records whose output Kafka refused.
 *
 * <p>Under exactly-once a refused write dooms the whole transaction: Kafka Streams aborts it, replaces the stream
 * thread and reads the same input again. The input's position is remembered here so that the second time it is
 * dead-lettered as {@link RejectReason#WRITE_FAILED}, in a small record, instead of failing the same way for ever.
 * The router's limits are meant to make this unreachable; it is the backstop for what they did not foresee.
 */
final class RouterErrors {

    /** The key under which the exception handlers find this object in the Streams configuration. */
    static final String CONFIG_KEY = "agent-events.router.errors";
    private static final int REMEMBERED_REFUSALS = 10_000;

    private record Position(String topic, int partition, long offset) {
    }

    private final RouterMetrics metrics;
    private final int maxDeadLetterBytes;
    private final String deadLetterTopic;
    private final Map<Position, Integer> refused = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Position, Integer> eldest) {
            return size() > REMEMBERED_REFUSALS;
        }
    };

    RouterErrors(RouterMetrics metrics, int maxDeadLetterBytes, String deadLetterTopic) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.maxDeadLetterBytes = maxDeadLetterBytes;
        this.deadLetterTopic = Objects.requireNonNull(deadLetterTopic, "deadLetterTopic");
    }

    /** The errors of the router configured by {@code config}, counted in {@code metrics}. */
    static RouterErrors of(RouterConfig config, RouterMetrics metrics) {
        return new RouterErrors(metrics, config.limits().maxDeadLetterBytes(), config.topics().deadLetters());
    }

    /** The instance an exception handler finds in its Streams configuration. */
    static RouterErrors from(Map<String, ?> configs) {
        if (configs.get(CONFIG_KEY) instanceof RouterErrors errors) {
            return errors;
        }
        throw new IllegalStateException("the Streams configuration has no " + CONFIG_KEY + ": start the router"
                + " through RouterApp (or put RouterErrors there in tests)");
    }

    String deadLetterTopic() {
        return deadLetterTopic;
    }

    RouterMetrics metrics() {
        return metrics;
    }

    int maxDeadLetterBytes() {
        return maxDeadLetterBytes;
    }

    /** Notes that a record written for the input at this position was refused by Kafka. */
    synchronized void writeRefused(String topic, int partition, long offset) {
        if (topic != null && offset >= 0) {
            refused.merge(new Position(topic, partition, offset), 1, Integer::sum);
        }
    }

    /** How often a record written for the input at this position was refused (0: never). */
    synchronized int refusals(String topic, int partition, long offset) {
        if (refused.isEmpty() || topic == null) {
            return 0;
        }
        return refused.getOrDefault(new Position(topic, partition, offset), 0);
    }
}
