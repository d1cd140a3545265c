package dev.agentevents.schemas;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import java.io.IOException;
import java.io.UncheckedIOException;
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

    private EventJson() {
    }

    /**
     * Writes {@code record} as a JSON object to {@code out}, streaming (no tree in between): the fanout node does
     * this once per record it delivers.
     */
    public static void write(JsonGenerator out, GenericRecord record) throws IOException {
        out.writeStartObject();
        for (Schema.Field field : record.getSchema().getFields()) {
            Object value = record.get(field.pos());
            if (value != null) {
                out.writeFieldName(field.name());
                value(out, field.schema(), value);
            }
        }
        out.writeEndObject();
    }

    /** {@code record} as a JSON object tree (what {@link #write} writes). */
    public static ObjectNode toJson(GenericRecord record) {
        try (TokenBuffer buffer = new TokenBuffer(MAPPER, false)) {
            write(buffer, record);
            return MAPPER.readTree(buffer.asParser());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + record.getSchema().getFullName() + " as JSON", e);
        }
    }

    private static void value(JsonGenerator out, Schema schema, Object value) throws IOException {
        if (value == null) {
            out.writeNull();
            return;
        }
        switch (schema.getType()) {
            case UNION -> value(out, branch(schema, value), value);
            case RECORD -> write(out, (GenericRecord) value);
            case STRING -> out.writeString(value.toString());
            case ENUM -> out.writeString(((GenericEnumSymbol<?>) value).toString());
            case INT -> out.writeNumber(((Number) value).intValue());
            case LONG -> out.writeNumber(value instanceof Instant instant ? instant.toEpochMilli()
                    : ((Number) value).longValue());
            case FLOAT -> out.writeNumber(((Number) value).floatValue());
            case DOUBLE -> out.writeNumber(((Number) value).doubleValue());
            case BOOLEAN -> out.writeBoolean((Boolean) value);
            case BYTES -> out.writeString(Base64.getEncoder().encodeToString(bytes((ByteBuffer) value)));
            case FIXED -> out.writeString(Base64.getEncoder().encodeToString(((GenericFixed) value).bytes()));
            case ARRAY -> {
                out.writeStartArray();
                for (Object item : (Collection<?>) value) {
                    value(out, schema.getElementType(), item);
                }
                out.writeEndArray();
            }
            case MAP -> {
                out.writeStartObject();
                for (Map.Entry<?, ?> entry : ((Map<?, ?>) value).entrySet()) {
                    out.writeFieldName(entry.getKey().toString());
                    value(out, schema.getValueType(), entry.getValue());
                }
                out.writeEndObject();
            }
            case NULL -> out.writeNull();
        }
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
