package dev.agentevents.bench.fanout;

import dev.agentevents.event.AgentEvent;
import dev.agentevents.schemas.EventJson;
import dev.agentevents.schemas.HashChain;

/**
 * The text of a realistic event frame (protocol v1) with its position and {@code occurredAt} filled in at send
 * time, for the bare Vert.x server: what a fanout node would write for the same event.
 */
public final class FrameTemplate {

    private final String beforeTime;
    private final String afterTime;

    public FrameTemplate(AgentEvent event) {
        String json = EventJson.toJson(event).toString();
        String marker = "\"occurredAt\":" + event.getOccurredAt().toEpochMilli();
        int at = json.indexOf(marker);
        this.beforeTime = json.substring(0, at) + "\"occurredAt\":";
        this.afterTime = json.substring(at + marker.length()) + ",\"chain\":\"" + HashChain.next(HashChain.GENESIS,
                "event", event) + "\"}";
    }

    /** The frame's JSON up to its {@code occurredAt} value, from {@code "event":} on (its start is the position). */
    String beforeTime() {
        return beforeTime;
    }

    /** The frame's JSON after its {@code occurredAt} value, to its end. */
    String afterTime() {
        return afterTime;
    }

    String frame(int partition, long offset, long occurredAtMs) {
        return "{\"type\":\"event\",\"pos\":\"" + partition + ":" + offset + "\",\"event\":" + beforeTime
                + occurredAtMs + afterTime;
    }
}
