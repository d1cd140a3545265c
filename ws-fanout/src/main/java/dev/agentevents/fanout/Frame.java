package dev.agentevents.fanout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.EventJson;
import org.apache.avro.generic.GenericRecord;

/**
 * One server-to-client message of protocol v1, its JSON text made once and shared by every connection it goes
 * to. Event and gap frames carry their position in {@code agent-events-ordered}; control frames (welcome, moved,
 * reset) have offset -1.
 */
record Frame(int partition, long offset, String userId, String runId, String threadId, long occurredAtMs,
             String text) {

    boolean hasPosition() {
        return offset >= 0;
    }

    /** Bytes this frame holds in queues and buffers, roughly (UTF-16 text). */
    long weight() {
        return 64L + 2L * text.length();
    }

    /** The frame of an {@code OrderedEvent} read (with its writer schema) at {@code partition:offset}. */
    static Frame of(int partition, long offset, GenericRecord ordered) {
        String kind = ordered.get("kind").toString();
        String userId = ordered.get("userId").toString();
        String runId = ordered.get("runId").toString();
        String threadId = ordered.get("threadId").toString();
        String pos = partition + ":" + offset;
        ObjectNode frame = EventJson.MAPPER.createObjectNode();
        long occurredAt = 0;
        if ("gap".equals(kind)) {
            GenericRecord gap = (GenericRecord) ordered.get("gap");
            frame.put("type", "gap").put("pos", pos).put("runId", runId).put("threadId", threadId)
                    .put("fromSeq", (Long) gap.get("fromSeq")).put("toSeq", (Long) gap.get("toSeq"))
                    .put("reason", String.valueOf(gap.get("reason")));
        } else {
            GenericRecord event = (GenericRecord) ordered.get("event");
            Object at = event.get("occurredAt");
            occurredAt = at instanceof java.time.Instant instant ? instant.toEpochMilli() : ((Number) at).longValue();
            frame.put("type", "event").put("pos", pos);
            frame.set("event", EventJson.toJson(event));
            frame.put("chain", ordered.get("hash").toString());
        }
        return new Frame(partition, offset, userId, runId, threadId, occurredAt, text(frame));
    }

    static Frame welcome(String userId, int partition, String node, String resume) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "welcome").put("userId", userId)
                .put("partition", partition).put("node", node).put("resume", resume));
    }

    /** Reconnect to {@code url} (null: ask {@code /route}) and resume. */
    static Frame moved(String url) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "moved").put("url", url));
    }

    static Frame reset(String reason) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "reset").put("reason", reason));
    }

    private static Frame control(ObjectNode json) {
        return new Frame(-1, -1, null, null, null, 0, text(json));
    }

    private static String text(ObjectNode json) {
        try {
            return EventJson.MAPPER.writeValueAsString(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a frame", e);
        }
    }
}
