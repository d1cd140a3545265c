package dev.agentevents.producer;

/** An event Kafka acknowledged: its ids and where it landed in {@code agent-events}. */
public record Published(String eventId, String userId, String runId, long seq, String type, int partition,
                        long offset) {
}
