package dev.agentevents.fanout;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.EventJson;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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

    /**
     * The frame of an {@code OrderedEvent} read (with its writer schema) at {@code partition:offset}. Written
     * straight to text, with no JSON tree in between: the node's feed thread makes one of these per record.
     */
    static Frame of(int partition, long offset, GenericRecord ordered) {
        String kind = ordered.get("kind").toString();
        String userId = ordered.get("userId").toString();
        String runId = ordered.get("runId").toString();
        String threadId = ordered.get("threadId").toString();
        String pos = partition + ":" + offset;
        long occurredAt = 0;
        StringWriter text = new StringWriter(768);
        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(text)) {
            out.writeStartObject();
            if ("gap".equals(kind)) {
                GenericRecord gap = (GenericRecord) ordered.get("gap");
                out.writeStringField("type", "gap");
                out.writeStringField("pos", pos);
                out.writeStringField("runId", runId);
                out.writeStringField("threadId", threadId);
                out.writeNumberField("fromSeq", (Long) gap.get("fromSeq"));
                out.writeNumberField("toSeq", (Long) gap.get("toSeq"));
                out.writeStringField("reason", String.valueOf(gap.get("reason")));
            } else {
                GenericRecord event = (GenericRecord) ordered.get("event");
                Object at = event.get("occurredAt");
                occurredAt = at instanceof java.time.Instant instant ? instant.toEpochMilli()
                        : ((Number) at).longValue();
                out.writeStringField("type", "event");
                out.writeStringField("pos", pos);
                out.writeFieldName("event");
                EventJson.write(out, event);
                out.writeStringField("chain", ordered.get("hash").toString());
            }
            out.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the frame of " + pos, e);
        }
        return new Frame(partition, offset, userId, runId, threadId, occurredAt, text.toString());
    }

    /**
     * The first frame of a connection; {@code pos} is the position its stream starts after (null when this node
     * does not serve the partition and {@code moved} follows): a client that holds no position yet takes it as its
     * own, so a reconnect before its first event resumes there instead of missing what came in between.
     */
    static Frame welcome(String userId, int partition, String node, String resume, String pos) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "welcome").put("userId", userId)
                .put("partition", partition).put("node", node).put("resume", resume).put("pos", pos));
    }

    /** Reconnect to {@code url} (null: ask {@code /route}) and resume. */
    static Frame moved(String url) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "moved").put("url", url));
    }

    /** The token expires at {@code expSeconds}: send {@code {"type":"refresh","token":…}} to go on. */
    static Frame expiring(long expSeconds) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "expiring").put("exp", expSeconds));
    }

    /** A refresh was accepted; the connection now lives until {@code expSeconds}. */
    static Frame refreshed(long expSeconds) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "refreshed").put("exp", expSeconds));
    }

    /**
     * A record of the user at {@code partition:offset} this node cannot decode: a gap of unknown extent, so the
     * client knows something is missing there instead of the stream stopping.
     */
    static Frame undecodable(int partition, long offset, String userId) {
        String text = text(EventJson.MAPPER.createObjectNode().put("type", "gap").put("pos", partition + ":" + offset)
                .putNull("runId").putNull("threadId").putNull("fromSeq").putNull("toSeq").put("reason", "UNDECODABLE"));
        return new Frame(partition, offset, userId, null, null, 0, text);
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
