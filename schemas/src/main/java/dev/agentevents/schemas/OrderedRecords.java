package dev.agentevents.schemas;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.event.Gap;
import dev.agentevents.event.OrderedEvent;
import dev.agentevents.event.SourcePosition;
import java.time.Instant;

/**
 * Builds the records of {@code agent-events-ordered}, each linked into its run's hash chain: the router writes
 * with these, and tests that stand in for the router use the same.
 */
public final class OrderedRecords {

    private OrderedRecords() {
    }

    /** An accepted event following {@code prevHash}; {@code source} is null for events the router made. */
    public static OrderedEvent event(String prevHash, AgentEvent event, Instant routedAt, SourcePosition source) {
        return event(prevHash, event, HashChain.avroBinary(event), routedAt, source);
    }

    /**
     * As {@link #event(String, AgentEvent, Instant, SourcePosition)}, for an event already in Avro binary
     * ({@link HashChain#avroBinary}): the chain hashes {@code eventAvro}, which a writer may also reuse for the
     * record's {@code event} field.
     */
    public static OrderedEvent event(String prevHash, AgentEvent event, byte[] eventAvro, Instant routedAt,
                                     SourcePosition source) {
        return OrderedEvent.newBuilder()
                .setKind("event")
                .setUserId(event.getUserId())
                .setThreadId(event.getThreadId())
                .setRunId(event.getRunId())
                .setEvent(event)
                .setPrevHash(prevHash)
                .setHash(HashChain.next(prevHash, "event", eventAvro))
                .setRoutedAt(routedAt)
                .setSource(source)
                .build();
    }

    /** A gap marker of run {@code runId} following {@code prevHash}. */
    public static OrderedEvent gap(String prevHash, String userId, String threadId, String runId, Gap gap,
                                   Instant routedAt) {
        return OrderedEvent.newBuilder()
                .setKind("gap")
                .setUserId(userId)
                .setThreadId(threadId)
                .setRunId(runId)
                .setGap(gap)
                .setPrevHash(prevHash)
                .setHash(HashChain.next(prevHash, "gap", gap))
                .setRoutedAt(routedAt)
                .build();
    }
}
