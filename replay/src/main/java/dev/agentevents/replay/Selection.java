package dev.agentevents.replay;

import java.time.Instant;
import java.util.Set;

/**
 * Which records to replay: a time range (record timestamps, inclusive from, exclusive to; null = open) and
 * optional user, run, thread and event types ({@code gap} selects gap markers).
 */
record Selection(Instant from, Instant to, String user, String run, String thread, Set<String> types) {

    Selection {
        types = types == null ? Set.of() : Set.copyOf(types);
        if (from != null && to != null && !from.isBefore(to)) {
            throw new IllegalArgumentException("--from " + from + " is not before --to " + to);
        }
    }

    boolean matches(Decoded record) {
        return (from == null || !record.timestamp().isBefore(from))
                && (to == null || record.timestamp().isBefore(to))
                && (user == null || user.equals(record.userId()))
                && (run == null || run.equals(record.runId()))
                && (thread == null || thread.equals(record.threadId()))
                && (types.isEmpty() || types.contains(record.type()));
    }
}
