package dev.agentevents.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;

/**
 * Avro records as plain JSON, the form browsers and other languages see: field names as in the schema, optional
 * ({@code ["null", T]}) fields unwrapped and left out when null, {@code timestamp-millis} as epoch milliseconds,
 * bytes as base64. Works on specific and generic records alike, so a record read with any writer schema prints
 * with the fields that schema has.
 */
public final class EventJson {

    public static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private EventJson() {
    }

    /** {@code record} as a JSON object. */
    public static ObjectNode toJson(GenericRecord record) {
        ObjectNode object = NODES.objectNode();
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value != null) {
                object.set(field.name(), value(field.schema(), value));
            }
        }
        return object;
    }

    private static JsonNode value(Schema schema, Object value) {
        if (value == null) {
            return NODES.nullNode();
        }
        return switch (schema.getType()) {
            case UNION -> value(branch(schema, value), value);
            case RECORD -> toJson((GenericRecord) value);
            case STRING -> NODES.textNode(value.toString());
            case ENUM -> NODES.textNode(((GenericEnumSymbol<?>) value).toString());
            case INT -> NODES.numberNode(((Number) value).intValue());
            case LONG -> value instanceof Instant instant ? NODES.numberNode(instant.toEpochMilli())
                    : NODES.numberNode(((Number) value).longValue());
            case FLOAT -> NODES.numberNode(((Number) value).floatValue());
            case DOUBLE -> NODES.numberNode(((Number) value).doubleValue());
            case BOOLEAN -> NODES.booleanNode((Boolean) value);
            case BYTES -> NODES.textNode(Base64.getEncoder().encodeToString(bytes((ByteBuffer) value)));
            case FIXED -> NODES.textNode(Base64.getEncoder().encodeToString(((GenericFixed) value).bytes()));
            case ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                for (Object item : (Collection<?>) value) {
                    array.add(value(schema.getElementType(), item));
                }
                yield array;
            }
            case MAP -> {
                ObjectNode map = NODES.objectNode();
                ((Map<?, ?>) value).forEach((k, v) -> map.set(k.toString(), value(schema.getValueType(), v)));
                yield map;
            }
            case NULL -> NODES.nullNode();
        };
    }

    /** The non-null branch of an optional union that {@code value} belongs to. */
    private static Schema branch(Schema union, Object value) {
        for (Schema type : union.getTypes()) {
            if (type.getType() == Schema.Type.NULL) {
                continue;
            }
            if (type.getType() == Schema.Type.RECORD && value instanceof GenericRecord record
                    && !record.getSchema().getFullName().equals(type.getFullName())) {
                continue;
            }
            return type;
        }
        throw new IllegalArgumentException("no branch of " + union + " holds a " + value.getClass().getName());
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] copy = new byte[buffer.remaining()];
        buffer.duplicate().get(copy);
        return copy;
    }
}
