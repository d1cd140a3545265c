package dev.agentevents.replay;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentevents.schemas.DeadLetterHeaders;
import dev.agentevents.schemas.EventJson;
import dev.agentevents.serde.AvroDeserializer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;

/**
 * One record as replay sees it, decoded with its own writer schema: an ordered record (event or gap, with its hash
 * chain), a plain event, a dead letter (its reason headers, the original key and value sizes and hashes, and the
 * original value decoded if it can be — not when the router stored only a prefix of it), or bytes that could not be
 * decoded — which are reported, never skipped silently.
 */
record Decoded(String topic, int partition, long offset, Instant timestamp, String key, String kind,
               GenericRecord ordered, GenericRecord event, GenericRecord gap, String error, Headers headers,
               byte[] value) {

    static Decoded of(ConsumerRecord<byte[], byte[]> record, AvroDeserializer<GenericRecord> decoder) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        Instant timestamp = Instant.ofEpochMilli(record.timestamp());
        boolean deadLetter = record.headers().lastHeader(DeadLetterHeaders.CODE) != null
                || record.headers().lastHeader(DeadLetterHeaders.EXCEPTION) != null;
        GenericRecord decoded = null;
        String error = null;
        String truncated = DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.TRUNCATED).orElse("false");
        if (deadLetter && truncated.equals("true")) {
            error = "the dead letter holds only the first " + (record.value() == null ? 0 : record.value().length)
                    + " of " + DeadLetterHeaders.text(record.headers(), DeadLetterHeaders.VALUE_SIZE).orElse("?")
                    + " bytes of the value";
        } else {
            try {
                decoded = decoder.deserialize(record.topic(), record.value());
            } catch (RuntimeException e) {
                error = e.getMessage();
            }
        }
        String kind;
        GenericRecord ordered = null;
        GenericRecord event = null;
        GenericRecord gap = null;
        if (decoded != null && decoded.getSchema().getField("hash") != null) {
            ordered = decoded;
            kind = String.valueOf(decoded.get("kind"));
            event = (GenericRecord) decoded.get("event");
            gap = (GenericRecord) decoded.get("gap");
        } else if (decoded != null && decoded.getSchema().getField("eventId") != null) {
            event = decoded;
            kind = "event";
        } else if (decoded != null) {
            kind = "record";
        } else {
            kind = "undecodable";
        }
        if (deadLetter) {
            kind = "dead-letter";
        }
        return new Decoded(record.topic(), record.partition(), record.offset(), timestamp, key, kind, ordered, event,
                gap, error, record.headers(), record.value());
    }

    private static String text(GenericRecord record, String field) {
        if (record == null || record.getSchema().getField(field) == null) {
            return null;
        }
        Object value = record.get(field);
        return value == null ? null : value.toString();
    }

    String userId() {
        String fromRecord = ordered != null ? text(ordered, "userId") : text(event, "userId");
        return fromRecord != null ? fromRecord : key;
    }

    String runId() {
        return ordered != null ? text(ordered, "runId") : text(event, "runId");
    }

    String threadId() {
        return ordered != null ? text(ordered, "threadId") : text(event, "threadId");
    }

    /** The event's type, {@code gap}, or null. */
    String type() {
        if (gap != null) {
            return "gap";
        }
        return text(event, "type");
    }

    Long seq() {
        return event == null ? null : (Long) event.get("seq");
    }

    Long occurredAtMs() {
        if (event == null) {
            return null;
        }
        Object at = event.get("occurredAt");
        return at instanceof Instant instant ? instant.toEpochMilli() : (Long) at;
    }

    String deadLetterHeader(String name) {
        return DeadLetterHeaders.text(headers, name).orElse(null);
    }

    /** A dead-letter header holding a number, or null when absent or not a number. */
    private Long number(String header) {
        try {
            String value = deadLetterHeader(header);
            return value == null ? null : Long.valueOf(value.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The record as one JSON object, the JSON Lines output. */
    ObjectNode toJson() {
        ObjectNode json = EventJson.MAPPER.createObjectNode();
        json.put("topic", topic).put("partition", partition).put("offset", offset)
                .put("timestamp", timestamp.toString()).put("key", key).put("kind", kind);
        if (event != null) {
            json.set("event", EventJson.toJson(event));
        }
        if (gap != null) {
            json.put("runId", runId()).put("userId", userId());
            json.set("gap", EventJson.toJson(gap));
        }
        if (ordered != null) {
            json.put("prevHash", text(ordered, "prevHash")).put("hash", text(ordered, "hash"));
            Object routedAt = ordered.get("routedAt");
            if (routedAt != null) {
                json.put("routedAt", Instant.ofEpochMilli(routedAt instanceof Instant i ? i.toEpochMilli()
                        : (Long) routedAt).toString());
            }
        }
        if (kind.equals("dead-letter")) {
            ObjectNode reason = json.putObject("error");
            reason.put("code", deadLetterHeader(DeadLetterHeaders.CODE))
                    .put("message", deadLetterHeader(DeadLetterHeaders.MESSAGE))
                    .put("exception", deadLetterHeader(DeadLetterHeaders.EXCEPTION))
                    .put("sourceTopic", deadLetterHeader(DeadLetterHeaders.TOPIC))
                    .put("sourcePartition", deadLetterHeader(DeadLetterHeaders.PARTITION))
                    .put("sourceOffset", deadLetterHeader(DeadLetterHeaders.OFFSET))
                    .put("time", deadLetterHeader(DeadLetterHeaders.TIME))
                    .put("truncated", "true".equals(deadLetterHeader(DeadLetterHeaders.TRUNCATED)));
            if (deadLetterHeader(DeadLetterHeaders.VALUE_SIZE) != null) {
                ObjectNode original = reason.putObject("original");
                original.put("keySize", number(DeadLetterHeaders.KEY_SIZE))
                        .put("keySha256", deadLetterHeader(DeadLetterHeaders.KEY_SHA256))
                        .put("valueSize", number(DeadLetterHeaders.VALUE_SIZE))
                        .put("valueSha256", deadLetterHeader(DeadLetterHeaders.VALUE_SHA256));
                if (deadLetterHeader(DeadLetterHeaders.HEADERS_DROPPED) != null) {
                    original.put("headersDropped", number(DeadLetterHeaders.HEADERS_DROPPED));
                }
            }
        }
        if (error != null) {
            json.put("decodeError", error);
        }
        if ((event == null && gap == null) && value != null) {
            json.put("valueBase64", Base64.getEncoder().encodeToString(value));
        }
        return json;
    }
}
