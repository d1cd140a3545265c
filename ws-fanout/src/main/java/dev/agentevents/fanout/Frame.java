package dev.agentevents.fanout;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.EventJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.Decoder;

/**
 * One server-to-client message of protocol v1, its JSON made once, as UTF-8, and shared by every connection it goes
 * to and by the recent frames kept for resumes: nothing is encoded again per connection. Event and gap frames carry
 * their position in {@code agent-events-ordered}; control frames (welcome, moved, reset) have offset -1.
 */
record Frame(int partition, long offset, String userId, String runId, String threadId, long occurredAtMs,
             byte[] utf8) {

    boolean hasPosition() {
        return offset >= 0;
    }

    /** The JSON, as text (for transports that rewrite it, and tests). */
    String text() {
        return new String(utf8, StandardCharsets.UTF_8);
    }

    /** Bytes this frame holds in queues and buffers, roughly. */
    long weight() {
        return 64L + utf8.length;
    }

    /**
     * The frame of the {@code OrderedEvent} that {@code in} holds in Avro binary, written with {@code writer}, at
     * {@code partition:offset}. Avro goes straight to JSON bytes ({@link EventJson#transcodeRecord}): no record
     * objects, no strings but the few the node routes by, no text encoded again — the node's feed thread makes
     * one of these per record it delivers.
     */
    static Frame of(int partition, long offset, Schema writer, Decoder in) throws IOException {
        String pos = partition + ":" + offset;
        String kind = null;
        String userId = null;
        String runId = null;
        String threadId = null;
        String hash = null;
        GenericRecord gap = null;
        long occurredAt = 0;
        ByteArrayBuilder event = null;
        for (Schema.Field field : writer.getFields()) {
            Schema type = field.schema();
            if (type.getType() == Schema.Type.UNION) {
                type = type.getTypes().get(in.readIndex());
            }
            switch (field.name()) {
                case "kind" -> kind = string(type, in);
                case "userId" -> userId = string(type, in);
                case "runId" -> runId = string(type, in);
                case "threadId" -> threadId = string(type, in);
                case "hash" -> hash = string(type, in);
                case "event" -> {
                    if (type.getType() == Schema.Type.RECORD) {
                        event = new ByteArrayBuilder(768);
                        ascii(event, "{\"type\":\"event\",\"pos\":\"" + pos + "\",\"event\":");
                        try (JsonGenerator out = EventJson.MAPPER.getFactory().createGenerator(event,
                                JsonEncoding.UTF8)) {
                            occurredAt = EventJson.transcodeRecord(out, type, in, "occurredAt");
                        }
                    } else {
                        GenericDatumReader.skip(type, in);
                    }
                }
                case "gap" -> {
                    if (type.getType() == Schema.Type.RECORD) {
                        gap = new GenericDatumReader<GenericRecord>(type).read(null, in);
                    } else {
                        GenericDatumReader.skip(type, in);
                    }
                }
                default -> GenericDatumReader.skip(type, in);
            }
        }
        if (userId == null || runId == null || threadId == null) {
            throw new IllegalArgumentException("ordered record " + pos + " has no userId, runId or threadId");
        }
        if ("gap".equals(kind) && gap != null) {
            byte[] utf8 = utf8(EventJson.MAPPER.createObjectNode().put("type", "gap").put("pos", pos)
                    .put("runId", runId).put("threadId", threadId).put("fromSeq", (Long) gap.get("fromSeq"))
                    .put("toSeq", (Long) gap.get("toSeq")).put("reason", String.valueOf(gap.get("reason"))));
            return new Frame(partition, offset, userId, runId, threadId, 0, utf8);
        }
        if (!"event".equals(kind) || event == null || hash == null) {
            throw new IllegalArgumentException("ordered record " + pos + " of kind '" + kind + "' has no "
                    + ("gap".equals(kind) ? "gap" : "event or hash"));
        }
        ascii(event, ",\"chain\":\"");
        event.write(JsonStringEncoder.getInstance().quoteAsUTF8(hash));
        ascii(event, "\"}");
        return new Frame(partition, offset, userId, runId, threadId, occurredAt, event.toByteArray());
    }

    private static String string(Schema type, Decoder in) throws IOException {
        return switch (type.getType()) {
            case STRING -> in.readString(null).toString();
            case ENUM -> type.getEnumSymbols().get(in.readEnum());
            default -> {
                GenericDatumReader.skip(type, in);
                yield null;
            }
        };
    }

    private static void ascii(ByteArrayBuilder out, String text) {
        for (int i = 0; i < text.length(); i++) {
            out.append(text.charAt(i));
        }
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
        byte[] utf8 = utf8(EventJson.MAPPER.createObjectNode().put("type", "gap").put("pos", partition + ":" + offset)
                .putNull("runId").putNull("threadId").putNull("fromSeq").putNull("toSeq").put("reason", "UNDECODABLE"));
        return new Frame(partition, offset, userId, null, null, 0, utf8);
    }

    static Frame reset(String reason) {
        return control(EventJson.MAPPER.createObjectNode().put("type", "reset").put("reason", reason));
    }

    private static Frame control(ObjectNode json) {
        return new Frame(-1, -1, null, null, null, 0, utf8(json));
    }

    private static byte[] utf8(ObjectNode json) {
        try {
            return EventJson.MAPPER.writeValueAsBytes(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write a frame", e);
        }
    }
}
